package compiler

import (
	"testing"

	"github.com/zkstage/zkstage/schema"
)

type Cluster = schema.Cluster

// fakeTB lets a random generator try specs the schema may reject without
// failing the test.
type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper()                                   {}
func (f *fakeTB) Fatalf(format string, args ...interface{}) { f.failed = true; panic("spec rejected") }
