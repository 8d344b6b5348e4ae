import CreddTestSupport
import Foundation
import Testing

@testable import CreddSystemd

/// `credd install-units` defers to the units the Debian package put in /usr/lib/systemd/user.
@Suite("packaged units")
struct PackagedUnitsTests {
    @Test func theServiceFileMarksPackagedUnits() throws {
        try TemporaryDirectory.with(prefix: "credd-packaged", in: "/tmp") { directory in
            #expect(!UnitInstaller.packagedUnitsExist(in: directory))
            // The sockets alone are not a package's complete set; the service is what runs credd.
            try Data().write(to: directory.appendingPathComponent(UnitFiles.endpointSocketName))
            #expect(!UnitInstaller.packagedUnitsExist(in: directory))
            try Data().write(to: directory.appendingPathComponent(UnitFiles.serviceName))
            #expect(UnitInstaller.packagedUnitsExist(in: directory))
        }
        #expect(UnitInstaller.packagedUnitDirectory.path == "/usr/lib/systemd/user")
    }
}
