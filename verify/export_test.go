package verify

// FakeServer lets the external live tests use the same fake four-letter-word
// listener as the parser tests.
var FakeServer = fakeServer
