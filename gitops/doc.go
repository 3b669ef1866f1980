// Package gitops writes a plan into a git repository as reviewable pull
// requests and gates them in CI.
//
// Stage writes one branch per remaining stage, stacked (each branch's commit
// has the previous stage's commit as parent), each holding one commit that
// moves the cluster's rendered files and manifest to that stage; the commit
// message is the pull request's description. It never touches the worktree,
// the index, HEAD or the base branch: it only writes objects and refs.
//
// Gate checks a stage's pull request: the rendered files equal what the spec
// compiles to, the head is the base's stage plus one of the same plan, and
// the live ensemble verifies as the base's stage.
//
// Everything goes through go-git; nothing shells out to git.
package gitops
