package zoocfg

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// property is one logical line of a properties file.
type property struct {
	key, value string
	line       int // line where the logical line starts
}

// readProperties splits data into key/value pairs by the rules of
// java.util.Properties.load: '\n', '\r' and "\r\n" end lines; blank
// characters are space, tab and form feed; '#' or '!' as the first
// non-blank character starts a comment; an odd number of trailing
// backslashes continues the line (leading blanks of the continuation are
// dropped); the key ends at the first unescaped '=', ':' or blank, and one
// '=' or ':' after blanks is part of the separator. Escapes are then decoded.
// Malformed \u escapes, which make Java throw, are reported by line.
func readProperties(data []byte) ([]property, []lineError) {
	var props []property
	var errs []lineError
	lines := splitLines(string(data))
	for i := 0; i < len(lines); i++ {
		start := i + 1
		l := strings.TrimLeft(lines[i], " \t\f")
		if l == "" || l[0] == '#' || l[0] == '!' {
			continue
		}
		for endsWithOddBackslashes(l) && i+1 < len(lines) {
			l = l[:len(l)-1] + strings.TrimLeft(lines[i+1], " \t\f")
			i++
		}
		if endsWithOddBackslashes(l) {
			// Java drops a dangling backslash at end of input.
			l = l[:len(l)-1]
		}
		rawKey, rawValue := splitKeyValue(l)
		key, kerr := unescape(rawKey)
		value, verr := unescape(rawValue)
		if kerr != "" || verr != "" {
			msg := kerr
			if msg == "" {
				msg = verr
			}
			errs = append(errs, lineError{line: start, key: strings.TrimSpace(key), msg: msg})
			continue
		}
		props = append(props, property{key: key, value: value, line: start})
	}
	return props, errs
}

type lineError struct {
	line int
	key  string
	msg  string
}

// splitLines splits on \n, \r and \r\n.
func splitLines(s string) []string {
	var out []string
	for {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			out = append(out, s)
			return out
		}
		out = append(out, s[:i])
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
}

func endsWithOddBackslashes(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitKeyValue separates the raw (still escaped) key and value.
func splitKeyValue(l string) (string, string) {
	keyEnd := len(l)
	valStart := len(l)
	hasSep := false
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c == '\\' {
			i++ // the escaped character belongs to the key
			continue
		}
		if c == '=' || c == ':' {
			keyEnd, valStart, hasSep = i, i+1, true
			break
		}
		if c == ' ' || c == '\t' || c == '\f' {
			keyEnd, valStart = i, i+1
			break
		}
	}
	// Skip blanks, then at most one '=' or ':' (unless one ended the key).
	for valStart < len(l) {
		c := l[valStart]
		if c == ' ' || c == '\t' || c == '\f' {
			valStart++
			continue
		}
		if !hasSep && (c == '=' || c == ':') {
			valStart++
			hasSep = true
			continue
		}
		break
	}
	if valStart > len(l) {
		valStart = len(l)
	}
	return l[:keyEnd], l[valStart:]
}

// unescape decodes Properties escapes; the second result is a message for a
// malformed \uXXXX escape.
func unescape(s string) (string, string) {
	if !strings.Contains(s, "\\") {
		return s, ""
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if len(s)-(i+1) < 4 {
				return "", "malformed \\uxxxx escape"
			}
			n, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
			if err != nil {
				return "", "malformed \\uxxxx escape"
			}
			r := rune(n)
			i += 4
			if utf16.IsSurrogate(r) {
				// Java strings are UTF-16: a pair of escapes is one rune.
				if lo, ok := lowSurrogate(s[i+1:]); ok {
					if pair := utf16.DecodeRune(r, lo); pair != utf8.RuneError {
						r = pair
						i += 6
					}
				}
			}
			if !utf8.ValidRune(r) {
				r = utf8.RuneError
			}
			b.WriteRune(r)
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), ""
}

// EscapeValue writes a value so that java.util.Properties.load reads it
// back unchanged: a backslash is doubled (a trailing one would continue the
// line, "\u" would be an escape), leading blanks and line breaks are escaped,
// and anything outside printable ASCII becomes \uXXXX (Properties.load reads
// ISO 8859-1, so UTF-8 bytes would come back as other characters; runes
// beyond U+FFFF become a UTF-16 surrogate pair).
func EscapeValue(s string) string {
	var b strings.Builder
	leading := true
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == ' ' && leading:
			b.WriteString(`\ `)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || r >= 0x7f:
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
				fmt.Fprintf(&b, `\u%04X\u%04X`, r1, r2)
			} else {
				fmt.Fprintf(&b, `\u%04X`, r)
			}
		default:
			b.WriteRune(r)
		}
		leading = leading && r == ' '
	}
	return b.String()
}

// lowSurrogate reads a "\uXXXX" escape of a UTF-16 low surrogate at the
// start of s.
func lowSurrogate(s string) (rune, bool) {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return 0, false
	}
	n, err := strconv.ParseUint(s[2:6], 16, 32)
	if err != nil || n < 0xdc00 || n > 0xdfff {
		return 0, false
	}
	return rune(n), true
}
