package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// InstallHint is the one line that tells how to get what the lab runs.
const InstallHint = "install it with `apt-get install -y zookeeper` (Debian's ZooKeeper and a Java runtime), or point --zookeeper-home / ZKSTAGE_ZOOKEEPER_HOME at an upstream ZooKeeper install"

// EnvZooKeeperHome names an upstream ZooKeeper install (bin/, lib/, conf/).
const EnvZooKeeperHome = "ZKSTAGE_ZOOKEEPER_HOME"

// DebianJavaDir is where Debian's zookeeper package puts its jars.
var DebianJavaDir = "/usr/share/java"

// Runtime is how to start a ZooKeeper server: the java binary and the
// classpath.
type Runtime struct {
	Java      string
	Classpath string
	// Source says where ZooKeeper comes from, for status output.
	Source string
}

// MissingError is a missing java or ZooKeeper, with the install hint.
type MissingError struct{ What string }

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s not found: %s", e.What, InstallHint)
}

// FindRuntime locates java (JAVA_HOME, then PATH) and ZooKeeper: zkHome (or
// $ZKSTAGE_ZOOKEEPER_HOME) when set, else the Debian package.
//
// Debian's zookeeper.jar names its dependencies (jute, netty, metrics,
// commons, jetty, slf4j-api, ...) in its manifest's Class-Path, so the
// classpath is zookeeper.jar plus an slf4j binding (slf4j-simple, which
// logs to stderr: the lab sends that to the host's log file).
func FindRuntime(zkHome string) (*Runtime, error) {
	java := ""
	if jh := os.Getenv("JAVA_HOME"); jh != "" {
		if p := filepath.Join(jh, "bin", "java"); isFile(p) {
			java = p
		}
	}
	if java == "" {
		p, err := exec.LookPath("java")
		if err != nil {
			return nil, &MissingError{What: "java"}
		}
		java = p
	}
	if zkHome == "" {
		zkHome = os.Getenv(EnvZooKeeperHome)
	}
	if zkHome != "" {
		jars, _ := filepath.Glob(filepath.Join(zkHome, "lib", "*.jar"))
		top, _ := filepath.Glob(filepath.Join(zkHome, "zookeeper-*.jar"))
		jars = append(jars, top...)
		if len(jars) == 0 {
			return nil, fmt.Errorf("ZooKeeper not found in %s (no lib/*.jar): %s", zkHome, InstallHint)
		}
		// conf/ first so the install's logback.xml / log4j.properties apply.
		cp := append([]string{filepath.Join(zkHome, "conf")}, jars...)
		return &Runtime{Java: java, Classpath: strings.Join(cp, ":"), Source: zkHome}, nil
	}
	zkJar := filepath.Join(DebianJavaDir, "zookeeper.jar")
	binding := filepath.Join(DebianJavaDir, "slf4j-simple.jar")
	if !isFile(zkJar) {
		return nil, &MissingError{What: "ZooKeeper (" + zkJar + ")"}
	}
	if !isFile(binding) {
		return nil, &MissingError{What: "slf4j-simple (" + binding + ")"}
	}
	return &Runtime{Java: java, Classpath: zkJar + ":" + binding, Source: "debian " + DebianJavaDir}, nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
