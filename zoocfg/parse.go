package zoocfg

import (
	"bytes"
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zkstage/zkstage/internal/fileio"
)

// Keys with a meaning zoocfg checks.
const (
	KeyClientPort        = "clientPort"
	KeyClientPortAddress = "clientPortAddress"
	KeyPeerType          = "peerType"
	KeyDynamicConfigFile = "dynamicConfigFile"
	KeyTickTime          = "tickTime"
	KeyInitLimit         = "initLimit"
	KeySyncLimit         = "syncLimit"
	KeyDataDir           = "dataDir"
	KeyDataLogDir        = "dataLogDir"
	KeyAdminServerPort   = "admin.serverPort"
	KeyVersion           = "version" // dynamic config / /zookeeper/config only
)

// MaxFileBytes is the largest config file zoocfg reads; a zoo.cfg of 255
// servers is about 15 kB.
const MaxFileBytes = 1 << 20

// ParseFile reads and parses a zoo.cfg (a regular file of at most
// MaxFileBytes).
func ParseFile(path string) (*Config, error) {
	data, err := fileio.ReadRegular(path, MaxFileBytes)
	if err != nil {
		return nil, Errors{errorf(path, 0, "", "%v", unwrapPathError(err))}
	}
	return Parse(path, data)
}

// ParseDynamicFile reads and parses a dynamic config file (a regular file
// of at most MaxFileBytes).
func ParseDynamicFile(path string) (*Config, error) {
	data, err := fileio.ReadRegular(path, MaxFileBytes)
	if err != nil {
		return nil, Errors{errorf(path, 0, "", "%v", unwrapPathError(err))}
	}
	return ParseDynamic(path, data)
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Parse parses a static config file (zoo.cfg). The error, when not nil, is
// an Errors list holding every problem found, each with file and line; the
// Config is returned as far as it could be read, even with errors.
func Parse(file string, data []byte) (*Config, error) {
	return parse(file, data, false)
}

// ParseDynamic parses a dynamic config file (or the data of the
// /zookeeper/config znode): server lines and an optional version only.
func ParseDynamic(file string, data []byte) (*Config, error) {
	return parse(file, data, true)
}

func parse(file string, data []byte, dynamic bool) (*Config, error) {
	c := &Config{File: file, Dynamic: dynamic}
	var errs Errors
	if i := binaryAt(data); i >= 0 {
		line := 1 + bytes.Count(data[:i], []byte("\n"))
		return c, Errors{errorf(file, line, "", "binary data (byte 0x%02x): not a config file, which is text", data[i])}
	}
	props, perrs := readProperties(data)
	for _, pe := range perrs {
		errs = append(errs, errorf(file, pe.line, pe.key, "%s", pe.msg))
	}
	if len(props) == 0 && len(perrs) == 0 {
		errs = append(errs, errorf(file, 1, "", "empty file: no key=value line"))
		return c, errs
	}
	serverLine := map[int]int{} // id -> line
	keyLine := map[string]int{}
	var dynEntry *Entry
	for _, p := range props {
		// QuorumPeerConfig trims both sides.
		key := strings.TrimSpace(p.key)
		value := strings.TrimSpace(p.value)
		at := func(format string, args ...interface{}) {
			errs = append(errs, errorf(file, p.line, key, format, args...))
		}
		switch {
		case strings.HasPrefix(key, "server."):
			s, err := ParseServerLine(key, value)
			if err != nil {
				at("%v", err)
				continue
			}
			s.File, s.Line = file, p.line
			if prev, dup := serverLine[s.ID]; dup {
				at("duplicate server id %d (also line %d)", s.ID, prev)
				continue
			}
			serverLine[s.ID] = p.line
			c.Servers = append(c.Servers, s)
			continue
		case strings.HasPrefix(key, "group.") || strings.HasPrefix(key, "weight."):
			at("hierarchical quorums (group.N, weight.N) are not supported yet")
			continue
		case dynamic && key != KeyVersion:
			at("only server.N lines (and version) belong in a dynamic config file")
			continue
		}
		e := Entry{Key: key, Value: value, File: file, Line: p.line}
		if prev, dup := keyLine[key]; dup {
			c.Warnings = append(c.Warnings, errorf(file, p.line, key, "duplicate key (also line %d): the last one wins, as in ZooKeeper", prev))
		}
		keyLine[key] = p.line
		if msg := checkValue(key, value); msg != "" {
			at("%s", msg)
		}
		c.Entries = append(c.Entries, e)
		if key == KeyDynamicConfigFile {
			dynEntry = &c.Entries[len(c.Entries)-1]
		}
	}
	if dynEntry != nil {
		// ZooKeeper refuses server lines in the static file once a dynamic
		// file is named ("must be in a separate dynamic config file").
		for _, s := range c.Servers {
			errs = append(errs, errorf(file, s.Line, s.Key(), "server lines must be in the dynamic config file when dynamicConfigFile is set (line %d)", dynEntry.Line))
		}
	}
	if len(errs) > 0 {
		sortErrors(errs)
		return c, errs
	}
	return c, nil
}

// binaryAt returns the offset of the first NUL byte or byte that is not
// UTF-8, or -1 for text.
func binaryAt(data []byte) int {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return i
	}
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// checkValue validates the values whose form zoocfg relies on.
func checkValue(key, value string) string {
	switch key {
	case KeyClientPort, KeyAdminServerPort:
		if _, err := parsePort("port", value); err != nil {
			return err.Error()
		}
	case KeyTickTime, KeyInitLimit, KeySyncLimit:
		n, err := strconv.Atoi(value)
		if err != nil || n <= 0 {
			return "value " + strconv.Quote(value) + " is not a positive number"
		}
	case KeyPeerType:
		if _, err := ParseRole(value); err != nil {
			return err.Error()
		}
	case KeyDataDir, KeyDataLogDir, KeyDynamicConfigFile:
		if value == "" {
			return "empty value"
		}
	}
	return ""
}

// sortErrors orders by line (stable), so output follows the file.
func sortErrors(errs Errors) {
	for i := 1; i < len(errs); i++ {
		for j := i; j > 0 && errs[j].Line < errs[j-1].Line; j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
}

// PeerType returns the peerType the file declares ("" when absent).
func (c *Config) PeerType() string {
	e, ok := c.Get(KeyPeerType)
	if !ok {
		return ""
	}
	r, _ := ParseRole(e.Value)
	return r
}

// ClientPort returns the clientPort key (0 when absent or invalid).
func (c *Config) ClientPort() int {
	e, ok := c.Get(KeyClientPort)
	if !ok {
		return 0
	}
	n, err := parsePort("port", e.Value)
	if err != nil {
		return 0
	}
	return n
}
