// Package ansible is the Ansible example of docs/config-management.md: the
// playbooks, the inventory made from a stage and, in ansible_test.go, the
// live test that drives a whole expansion on the lab through them.
package ansible
