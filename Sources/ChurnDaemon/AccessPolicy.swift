#if canImport(Glibc)
import Glibc
#endif
import ChurnProtocol
import ChurnRPC

/// Who may call what, from the socket peer's credentials (`SO_PEERCRED`).
///
/// Read methods (predictions, explanations, health, listing models, experiment status and
/// reports, metrics, months) are for every user who can open the socket. Every other method
/// changes something or exposes artifacts (train, register, promote, rollback, delete, export,
/// verify, experiments start/stop, feedback, history writes, file transfers) and needs the
/// admin role: a uid in ``adminUsers``, or membership (primary or supplementary) in one of
/// ``adminGroups``. A method this list does not know needs the admin role too.
///
/// By default the admins are root and the user churnd runs as; an operator adds a group
/// (`churnd --admin-group churn-admin`) and gives the socket to a wider group for reading.
public struct AccessPolicy: Sendable {
    /// Users with the admin role, by uid.
    public var adminUsers: Set<UInt32>
    /// Groups whose members have the admin role, by gid.
    public var adminGroups: Set<UInt32>

    /// The methods every socket user may call.
    public static let readMethods: Set<String> = [
        "describe", "health", "predict", "predict.batch", "explain", "models.list", "models.get", "plugins.list",
        "experiments.status", "experiments.report", "feedback.summary", "metrics", "history.get", "models.audit", "campaigns.list",
        "campaigns.report", "campaigns.members", "uplift.predict",
    ]

    /// Root and the daemon's own user.
    public init(adminUsers: Set<UInt32> = [0, getuid()], adminGroups: Set<UInt32> = []) {
        self.adminUsers = adminUsers
        self.adminGroups = adminGroups
    }

    /// Nil when `peer` may call `method`, else why not.
    public func refusal(of method: String, by peer: PeerCredentials?) -> RPCError? {
        if Self.readMethods.contains(method) { return nil }
        guard let peer else {
            return RPCError(
                .permissionDenied, "\(method) needs the admin role, and this connection's user is unknown",
                data: ["method": .string(method)])
        }
        if adminUsers.contains(peer.uid) || !adminGroups.isDisjoint(with: Self.groups(of: peer)) { return nil }
        let user = PeerCredentials.userName(uid: peer.uid)
        return RPCError(
            .permissionDenied,
            "\(method) needs the admin role: \(user) (uid \(peer.uid)) is not an admin of this churnd (an operator adds admins with --admin-group or admin_users)",
            data: ["method": .string(method), "uid": .number(Double(peer.uid)), "user": .string(user), "needs": "admin"])
    }

    /// The peer's primary group and the supplementary groups of its user.
    static func groups(of peer: PeerCredentials) -> Set<UInt32> {
        var groups: Set<UInt32> = [peer.gid]
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(peer.uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else {
            return groups
        }
        var count: Int32 = 64
        var list = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, entry.pw_gid, &list, &count) == -1 {
            list = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(name, entry.pw_gid, &list, &count)
        }
        for gid in list.prefix(Int(max(0, count))) { groups.insert(gid) }
        return groups
    }

    /// The gid of group `name`, or of a number given as text.
    public static func groupID(_ name: String) -> UInt32? {
        if let number = UInt32(name) { return number }
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.gr_gid
    }

    /// The uid of user `name`, or of a number given as text.
    public static func userID(_ name: String) -> UInt32? {
        if let number = UInt32(name) { return number }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.pw_uid
    }
}
