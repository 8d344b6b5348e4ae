import Foundation

/// A fake STS in front of a real emulator: a python3 program that relays every POST to the
/// upstream (moto), after a hook of Python that sees the request first and may answer it
/// itself. Start it with `LoopbackServer(STSRelay.arguments(…))`.
public enum STSRelay {
    /// The command line. `hook` is Python run first in the request handler, with `form` (each
    /// field's first value, blank ones kept), `extra` (the given string, or `None`) and `json`
    /// at hand; `return self.reply(status, body_bytes)` answers without relaying.
    public static func arguments(upstream: String, extra: String? = nil, hook: String) -> [String] {
        let indentedHook = hook.split(separator: "\n", omittingEmptySubsequences: false).map { "        " + $0 }.joined(separator: "\n")
        let program = #"""
            import json, sys, urllib.request, urllib.error
            from urllib.parse import parse_qs
            from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
            port, upstream = int(sys.argv[1]), sys.argv[2]
            extra = sys.argv[3] if len(sys.argv) > 3 else None
            class Handler(BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                    form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
            HOOK
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                    request = urllib.request.Request(upstream + self.path, data=body, method="POST", headers=headers)
                    try:
                        with urllib.request.urlopen(request, timeout=30) as answer:
                            self.reply(answer.status, answer.read(), answer.headers.get("Content-Type", "text/xml"))
                    except urllib.error.HTTPError as answer:
                        self.reply(answer.code, answer.read(), answer.headers.get("Content-Type", "text/xml"))
                def reply(self, code, data, content_type="text/xml"):
                    self.send_response(code)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                def log_message(self, *args):
                    pass
            ThreadingHTTPServer.daemon_threads = True
            ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
            """#.replacingOccurrences(of: "HOOK", with: indentedHook)
        return ["python3", "-c", program, "{PORT}", upstream] + (extra.map { [$0] } ?? [])
    }
}
