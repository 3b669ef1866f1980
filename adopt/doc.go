// Package adopt turns an ensemble that already runs into a zkstage cluster
// spec: from its zoo.cfg files (plus the dynamic config files they name and
// their myid files) or from the live servers (conf, /zookeeper/config,
// srvr). Every server line becomes a host that is a member today, with its
// myid, role and ports; settings shared by every file are carried over.
//
// Nothing is guessed where the sources disagree: each difference about
// membership or settings is reported with its file and line, and the import
// fails. The library never prints; callers print Result.Warnings.
//
// Keys zkstage renders itself (schema.ReservedKey) are not copied into
// settings.extra: tickTime, initLimit, syncLimit, dataDir, dataLogDir and
// admin.enableServer/admin.serverPort map to their settings fields;
// server.N lines become hosts; clientPort becomes the ports; peerType
// follows the server line; clientPortAddress, dynamicConfigFile,
// reconfigEnabled, standaloneEnabled and 4lw.commands.whitelist are dropped,
// with a warning when the value differs from what zkstage renders.
package adopt
