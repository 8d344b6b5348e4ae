/// The text of credd's systemd user units. `systemd/` in the repository holds the same text with
/// the default `ExecStart=` (a test keeps them identical); ``UnitInstaller`` writes these.
///
/// `FileDescriptorName=` names every socket of a socket unit alike, so the endpoint and the control
/// socket need a unit each to reach the daemon under the names `endpoint` and `control`.
public enum UnitFiles {
    /// The first line of every unit credd installs; ``UnitInstaller`` replaces or removes only files
    /// that start with it.
    public static let marker = "# Installed by `credd install-units`; `credd uninstall-units` removes it."

    public static let serviceName = "credd.service"
    public static let endpointSocketName = "credd.socket"
    public static let controlSocketName = "credd-control.socket"

    /// The `ExecStart=` the repository's copy uses; `credd install-units` writes the real path.
    public static let defaultExecStart = "%h/.local/bin/credd run"

    /// The three units as (file name, contents), for `execStart` (an already escaped command line).
    public static func all(execStart: String) -> [(name: String, contents: String)] {
        [
            (serviceName, service(execStart: execStart)),
            (endpointSocketName, endpointSocket),
            (controlSocketName, controlSocket),
        ]
    }

    public static func service(execStart: String) -> String {
        """
        \(marker)
        # The install step writes the binary's real path into ExecStart=.
        [Unit]
        Description=credd: keeps AWS STS credentials fresh and serves them locally
        Requires=\(endpointSocketName) \(controlSocketName)
        After=\(endpointSocketName) \(controlSocketName)
        # A crash loop stops after 10 starts in a minute (with RestartSec=2s it never reaches systemd's
        # default of 5 in 10 s); `systemctl --user reset-failed` clears it. Manual restarts count too.
        StartLimitIntervalSec=60s
        StartLimitBurst=10

        [Service]
        Type=notify
        NotifyAccess=main
        ExecStart=\(execStart)
        ExecReload=kill -HUP $MAINPID
        Sockets=\(endpointSocketName) \(controlSocketName)
        WatchdogSec=30s
        Restart=on-failure
        RestartSec=2s
        TimeoutStopSec=10s
        # The watchdog aborts with SIGABRT; Swift's backtracer would catch it and keep the process
        # alive while it symbolicates, so turn it off and keep the abort bounded.
        TimeoutAbortSec=5s
        Environment=SWIFT_BACKTRACE=enable=no
        UMask=0077
        # A core dump would hold every credential credd serves (credd also turns dumps off itself).
        LimitCORE=0
        # %t/credd holds the control socket (made by credd-control.socket) and the endpoint token.
        # Preserve it across restarts: removing it would delete the socket systemd listens on.
        RuntimeDirectory=credd
        RuntimeDirectoryMode=0700
        RuntimeDirectoryPreserve=yes

        # Sandbox. A user manager can set up mount namespaces only inside a user namespace, so
        # PrivateUsers=yes is what makes ProtectSystem=, ProtectHome=, PrivateTmp= and friends work.
        # mfa_process and credential_process commands run inside this sandbox too.
        PrivateUsers=yes
        NoNewPrivileges=yes
        ProtectSystem=strict
        ProtectHome=read-only
        # It covers %t (/run/user/UID) too; the desktop's sockets there still work, as connecting to a
        # socket writes nothing: the session bus (%t/bus) and the user manager's %t/systemd/private,
        # through which a notification's "Enter code" runs systemd-run --user.
        # ~/.config/credd stays readable; only ~/.aws (if it exists) and %t/credd are writable.
        # A credentials_file elsewhere needs a drop-in: systemctl --user edit credd.service
        ReadWritePaths=-%h/.aws %t/credd
        PrivateTmp=yes
        PrivateDevices=yes
        PrivateIPC=yes
        PrivateMounts=yes
        KeyringMode=private
        ProtectKernelTunables=yes
        ProtectKernelModules=yes
        ProtectKernelLogs=yes
        ProtectControlGroups=yes
        ProtectClock=yes
        ProtectHostname=yes
        # Not ProcSubset=pid: the endpoint reads /proc/net/tcp{,6} to find a client's uid when
        # netlink cannot tell.
        ProtectProc=invisible
        # AF_NETLINK: the endpoint asks the kernel for a client's uid over sock_diag, in microseconds
        # (/proc/net/tcp takes milliseconds per connection).
        RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
        RestrictNamespaces=yes
        RestrictRealtime=yes
        RestrictSUIDSGID=yes
        LockPersonality=yes
        MemoryDenyWriteExecute=yes
        CapabilityBoundingSet=
        SystemCallFilter=@system-service
        # Not ~@resources: credential helpers such as gpg call setrlimit() to disable core dumps.
        SystemCallFilter=~@privileged
        SystemCallErrorNumber=EPERM
        SystemCallArchitectures=native

        [Install]
        WantedBy=default.target
        Also=\(endpointSocketName) \(controlSocketName)

        """
    }

    public static let endpointSocket = """
        \(marker)
        [Unit]
        Description=credd credential endpoint (IMDSv2 and container credentials API)

        [Socket]
        # Keep in step with `listen` in ~/.config/credd/config. Both loopback families, so that no other
        # user can listen on the address `localhost` resolves to first.
        ListenStream=127.0.0.1:9911
        ListenStream=[::1]:9911
        BindIPv6Only=ipv6-only
        FileDescriptorName=endpoint
        Service=\(serviceName)

        [Install]
        WantedBy=sockets.target
        Also=\(controlSocketName)

        """

    public static let controlSocket = """
        \(marker)
        [Unit]
        Description=credd control socket (credd status, refresh, login)

        [Socket]
        ListenStream=%t/credd/control.sock
        FileDescriptorName=control
        SocketMode=0600
        DirectoryMode=0700
        Service=\(serviceName)

        [Install]
        WantedBy=sockets.target

        """
}
