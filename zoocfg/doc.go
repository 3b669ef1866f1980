// Package zoocfg parses ZooKeeper configuration files (zoo.cfg, the dynamic
// config file, and the server lines of the `conf` four-letter word) by
// ZooKeeper's own rules, keeping the file and line of every entry so that
// every complaint can point at the spot.
//
// The rules followed are those of java.util.Properties.load (which
// QuorumPeerConfig uses) and QuorumPeer.QuorumServer:
//
//   - a logical line is a key, a separator ('=', ':' or whitespace) and a
//     value; lines whose first non-blank character is '#' or '!' are
//     comments; a line ending in an odd number of backslashes continues on
//     the next line; backslash escapes (\t, \n, \uXXXX, \x -> x) apply;
//   - keys and values are then trimmed, as QuorumPeerConfig does;
//   - server.N=host:quorumPort:electionPort[:participant|observer][;[clientAddr:]clientPort]
//     with IPv6 hosts in brackets ([::1]:2888:3888);
//   - group.N and weight.N (hierarchical quorums) are reported as not
//     supported yet; the 3.6+ multi-address form (a|b) likewise.
//
// Where ZooKeeper would silently let the last of two equal keys win, zoocfg
// reports a duplicate server id as an error and any other duplicate key as a
// warning: an operator adopting an ensemble must see those.
package zoocfg
