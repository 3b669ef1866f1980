package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// InstallHint is the one line that tells how to get what the lab runs.
const InstallHint = "install it with `apt-get install -y zookeeper` (Debian's ZooKeeper 3.8 and a Java runtime), or point --zookeeper-home / ZKSTAGE_ZOOKEEPER_HOME at an upstream ZooKeeper install of the spec's version, or ZKSTAGE_ZOOKEEPER_HOMES at a folder of installs named by version (3.4.6/, 3.5.10/, ...)"

// EnvZooKeeperHome names an upstream ZooKeeper install (lib/, conf/,
// zookeeper-<version>.jar).
const EnvZooKeeperHome = "ZKSTAGE_ZOOKEEPER_HOME"

// EnvZooKeeperHomes names a folder of upstream installs, one sub-folder per
// version ("3.4.6", "3.5.10"): the lab picks the one the spec declares.
const EnvZooKeeperHomes = "ZKSTAGE_ZOOKEEPER_HOMES"

// DebianJavaDir is where Debian's zookeeper package puts its jars.
var DebianJavaDir = "/usr/share/java"

// Runtime is how to start a ZooKeeper server: the java binary and the
// classpath.
type Runtime struct {
	Java      string
	Classpath string
	// Version is the ZooKeeper release the jars are ("3.8.0"), from the
	// jar's file name; "" when it cannot be told.
	Version string
	// Source says where ZooKeeper comes from, for status output.
	Source string
}

// MissingError is a missing java or ZooKeeper, with the install hint.
type MissingError struct {
	What string
	// Where, when set, says where it was looked for ("in /opt/zk (no ...)").
	Where string
}

func (e *MissingError) Error() string {
	if e.Where != "" {
		return fmt.Sprintf("%s not found %s: %s", e.What, e.Where, InstallHint)
	}
	return fmt.Sprintf("%s not found: %s", e.What, InstallHint)
}

// VersionError is a ZooKeeper install whose release line differs from the
// spec's: the rendered files are written for one line (3.4 has no roles on
// server lines, 3.5+ has), and what a test shows holds only for the version
// it ran.
type VersionError struct {
	Want, Have, Source string
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("ZooKeeper in %s is %s, but the spec declares %s: the lab runs the spec's release line (%s); %s",
		e.Source, e.Have, e.Want, minorOf(e.Want), InstallHint)
}

// FindRuntime locates java (JAVA_HOME, then PATH) and a ZooKeeper of the
// given version's release line (major.minor; "" takes any): zkHome (or
// $ZKSTAGE_ZOOKEEPER_HOME) when set; else homes (or $ZKSTAGE_ZOOKEEPER_HOMES)
// holding a folder named by the version; else the Debian package.
//
// Debian's zookeeper.jar names its dependencies (jute, netty, metrics,
// commons, jetty, slf4j-api, ...) in its manifest's Class-Path, so the
// classpath is zookeeper.jar plus an slf4j binding (slf4j-simple, which
// logs to stderr: the lab sends that to the host's log file).
func FindRuntime(zkHome, homes, version string) (*Runtime, error) {
	java, err := findJava()
	if err != nil {
		return nil, err
	}
	if zkHome == "" {
		zkHome = os.Getenv(EnvZooKeeperHome)
	}
	if zkHome != "" {
		rt, err := homeRuntime(java, zkHome)
		if err != nil {
			return nil, err
		}
		return rt, checkVersion(rt, version)
	}
	if homes == "" {
		homes = os.Getenv(EnvZooKeeperHomes)
	}
	if homes != "" && version != "" {
		if dir := pickHome(homes, version); dir != "" {
			rt, err := homeRuntime(java, dir)
			if err != nil {
				return nil, err
			}
			return rt, checkVersion(rt, version)
		}
	}
	rt, err := debianRuntime(java)
	if err != nil {
		if version != "" && !sameLine(version, "3.8") {
			return nil, &MissingError{What: "ZooKeeper " + version}
		}
		return nil, err
	}
	if cerr := checkVersion(rt, version); cerr != nil {
		where := ""
		if homes != "" {
			where = " (no " + minorOf(version) + ".x folder in " + homes + ")"
		}
		return nil, &MissingError{What: "ZooKeeper " + version + where}
	}
	return rt, nil
}

func findJava() (string, error) {
	if jh := os.Getenv("JAVA_HOME"); jh != "" {
		if p := filepath.Join(jh, "bin", "java"); isFile(p) {
			return p, nil
		}
	}
	p, err := exec.LookPath("java")
	if err != nil {
		return "", &MissingError{What: "java"}
	}
	return p, nil
}

var jarVersion = regexp.MustCompile(`^zookeeper-([0-9]+\.[0-9]+\.[0-9]+)\.jar$`)

// homeRuntime is an upstream layout: zookeeper-<v>.jar at the top (releases)
// or in lib/ (binary tarballs of 3.5+), lib/*.jar, conf/.
func homeRuntime(java, home string) (*Runtime, error) {
	jars, _ := filepath.Glob(filepath.Join(home, "lib", "*.jar"))
	top, _ := filepath.Glob(filepath.Join(home, "zookeeper-*.jar"))
	jars = append(jars, top...)
	version := ""
	for _, j := range jars {
		if m := jarVersion.FindStringSubmatch(filepath.Base(j)); m != nil {
			version = m[1]
		}
	}
	if version == "" {
		return nil, &MissingError{What: "ZooKeeper", Where: "in " + home + " (no zookeeper-<version>.jar at the top or in lib/)"}
	}
	// conf/ first so the install's logback.xml / log4j.properties apply.
	cp := append([]string{filepath.Join(home, "conf")}, jars...)
	return &Runtime{Java: java, Classpath: strings.Join(cp, ":"), Version: version, Source: home}, nil
}

func debianRuntime(java string) (*Runtime, error) {
	zkJar := filepath.Join(DebianJavaDir, "zookeeper.jar")
	binding := filepath.Join(DebianJavaDir, "slf4j-simple.jar")
	if !isFile(zkJar) {
		return nil, &MissingError{What: "ZooKeeper (" + zkJar + ")"}
	}
	if !isFile(binding) {
		return nil, &MissingError{What: "slf4j-simple (" + binding + ")"}
	}
	version := ""
	if real, err := filepath.EvalSymlinks(zkJar); err == nil {
		if m := jarVersion.FindStringSubmatch(filepath.Base(real)); m != nil {
			version = m[1]
		}
	}
	if version == "" {
		// The package installs zookeeper-<v>.jar beside the link.
		if m, _ := filepath.Glob(filepath.Join(DebianJavaDir, "zookeeper-[0-9]*.jar")); len(m) > 0 {
			for _, j := range m {
				if v := jarVersion.FindStringSubmatch(filepath.Base(j)); v != nil {
					version = v[1]
				}
			}
		}
	}
	return &Runtime{Java: java, Classpath: zkJar + ":" + binding, Version: version, Source: "debian " + DebianJavaDir}, nil
}

// pickHome returns homes/<version> if it exists, else the newest folder of
// the same release line, else "".
func pickHome(homes, version string) string {
	if d := filepath.Join(homes, version); isDir(d) {
		return d
	}
	entries, err := os.ReadDir(homes)
	if err != nil {
		return ""
	}
	var same []string
	for _, e := range entries {
		if e.IsDir() && sameLine(e.Name(), version) {
			same = append(same, e.Name())
		}
	}
	if len(same) == 0 {
		return ""
	}
	sort.Slice(same, func(i, j int) bool { return patchOf(same[i]) < patchOf(same[j]) })
	return filepath.Join(homes, same[len(same)-1])
}

func checkVersion(rt *Runtime, want string) error {
	if want == "" || rt.Version == "" || sameLine(rt.Version, want) {
		return nil
	}
	return &VersionError{Want: want, Have: rt.Version, Source: rt.Source}
}

// sameLine: equal major.minor.
func sameLine(a, b string) bool { return minorOf(a) == minorOf(b) }

func minorOf(v string) string {
	f := strings.SplitN(v, ".", 3)
	if len(f) < 2 {
		return v
	}
	return f[0] + "." + f[1]
}

func patchOf(v string) int {
	f := strings.SplitN(v, ".", 3)
	if len(f) < 3 {
		return 0
	}
	n, _ := strconv.Atoi(f[2])
	return n
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
