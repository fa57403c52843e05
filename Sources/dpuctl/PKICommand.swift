import ArgumentParser
import Foundation
import ProviderPKI

/// The management channel's certificates (no controller needed): the
/// provider CA, the controller's certificate, one per card.
struct PKICommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pki",
    abstract: "Make the provider CA and the controller's and cards' certificates.",
    discussion: """
      Files go in one folder (default ./pki): ca.crt ca.key, key-seed,
      controller.crt controller.key, cards/NAME.crt cards/NAME.key
      cards/NAME.kek. Keys are written mode 0600.
      Copy ca.crt and cards/NAME.{crt,key,kek} to card NAME; keep ca.key
      offline. key-seed goes with the controller's files: each card's
      key-encryption key (NAME.kek) is derived from it, and the controller
      wraps the ESP keys it pushes to a card with that card's.

      Examples:
        dpuctl pki init --dir pki
        dpuctl pki issue-controller --dir pki
        dpuctl pki issue-card rack1-slot3 --dir pki
      """,
    subcommands: [Initialize.self, IssueController.self, IssueCard.self])

  struct Folder: ParsableArguments {
    @Option(help: "The PKI folder.") var dir = "pki"
    var authority: ProviderCertificateAuthority {
      ProviderCertificateAuthority(folder: URL(fileURLWithPath: dir))
    }
  }

  struct Initialize: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "init", abstract: "Create the provider CA (ca.crt, ca.key).")
    @OptionGroup var folder: Folder
    @Option(help: "Years the CA is valid.") var years = 10

    func run() throws {
      try report { () throws(PKIError) in
        try folder.authority.initialize(lifetime: .seconds(years * 365 * 24 * 3600))
        print("created \(folder.authority.certificatePath) and \(folder.authority.keyPath)")
      }
    }
  }

  struct IssueController: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Issue the controller's certificate (controller.crt, controller.key).")
    @OptionGroup var folder: Folder
    @Option(help: "The DNS name cards expect the controller to have.")
    var name = ProviderCertificateAuthority.defaultControllerName
    @Option(help: "Days the certificate is valid.") var days = 365

    func run() throws {
      try report { () throws(PKIError) in
        let identity = try folder.authority.issueController(
          dnsName: name, lifetime: .seconds(days * 24 * 3600))
        print("issued \(identity.certificatePath) for \(name)")
      }
    }
  }

  struct IssueCard: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Issue a card's certificate (cards/NAME.crt, cards/NAME.key).",
      discussion: "The name must be the card's registered id (dpuctl cards register NAME).")
    @Argument(help: "Card id.") var name: String
    @OptionGroup var folder: Folder
    @Option(help: "Days the certificate is valid.") var days = 365

    func run() throws {
      try report { () throws(PKIError) in
        let identity = try folder.authority.issueCard(name, lifetime: .seconds(days * 24 * 3600))
        print("issued \(identity.certificatePath) for card \(name)")
      }
    }
  }
}

/// Prints a PKI failure as dpuctl prints others, exit code 1.
private func report(_ body: () throws(PKIError) -> Void) throws {
  do {
    try body()
  } catch {
    FileHandle.standardError.write(Data("dpuctl: error: \(error)\n".utf8))
    throw ExitCode(1)
  }
}
