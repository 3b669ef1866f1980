package verify

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML for CI: one test case per check.
// A check that could not be observed is a failure (type "unknown") unless
// unknowns were accepted; a warning passes with its message in system-out.
func (r *Report) WriteJUnit(w io.Writer) error {
	s := junitSuite{
		Name: fmt.Sprintf("zkstage verify %s stage %02d %s", r.Cluster, r.Stage, r.StageName),
		Time: fmt.Sprintf("%.3f", r.Duration.Seconds()),
	}
	for _, c := range r.Checks {
		jc := junitCase{Name: c.Title(), Classname: "zkstage.verify." + r.Cluster}
		text := c.Message
		if c.Source != "" {
			text += "\nsource: " + c.Source + " (not observed on the servers)"
		}
		if len(c.Evidence) > 0 {
			text += "\n" + strings.Join(c.Evidence, "\n")
		}
		switch {
		case c.Status == Fail || (c.Status == Unknown && !r.AcceptUnknown):
			jc.Failure = &junitFailure{Message: c.Message, Type: string(c.Status), Text: text}
			s.Failures++
		default:
			jc.SystemOut = string(c.Status) + ": " + text
		}
		s.Cases = append(s.Cases, jc)
	}
	s.Tests = len(s.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
