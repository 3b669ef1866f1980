#!/usr/bin/env python3
"""Ansible inventory made from a zkstage stage manifest (stage.json).

Hosts: every member of the stage's configuration and every host live at the
end of the stage, so that a host leaving in a -stop stage is still there for
the pull (which removes its files) and for its stop step. Groups:
zookeeper (all of them), zookeeper_live (the hosts with files), and one
group per datacenter (dc_<name>). Host variables: ansible_host (the
member's address), zk_myid, zk_role, zk_datacenter, zk_client_port,
zk_live, zk_step (the host's start, restart or stop step in this stage,
"" when it has none: the reconfig operations add and remove are zkstage's
own). Group variables of zookeeper: zk_cluster, zk_stage, zk_stage_name,
zk_fingerprint, zk_method (the plan's policy.method: rolling or
reconfig), zk_dynamic (the stage's hosts run dynamic configs: ZooKeeper
owns their zoo.cfg) and zk_rendered (the folder pull.yml installs from).

The manifest is $ZKSTAGE_STAGE_JSON, else $ZKSTAGE_RENDERED/stage.json,
else $ZKSTAGE_DIR/rendered/stage.json: `zkstage roll` sets ZKSTAGE_DIR to
the cluster folder for every step, so the inventory of a step is the stage
being rolled.
"""
import json
import os
import sys

# The stage.json layouts this script reads (0: written before the layout
# had a version; the same fields as 1).
FORMATS = (0, 1)


def manifest_path():
    if os.environ.get("ZKSTAGE_STAGE_JSON"):
        return os.environ["ZKSTAGE_STAGE_JSON"]
    rendered = os.environ.get("ZKSTAGE_RENDERED") or os.path.join(
        os.environ.get("ZKSTAGE_DIR", "."), "rendered")
    return os.path.join(rendered, "stage.json")


def inventory(path):
    with open(path) as f:
        m = json.load(f)
    fmt = m.get("format", 0)
    if fmt not in FORMATS:
        raise SystemExit(f"{path}: stage.json format {fmt} is not one this inventory reads {FORMATS}: update examples/ansible/inventory.py")
    live = set(m.get("live") or [])
    hostvars, groups = {}, {}
    def member_vars(mem):
        return {
            "ansible_host": mem["address"],
            "zk_myid": mem["id"],
            "zk_role": mem["role"],
            "zk_datacenter": mem["datacenter"],
            "zk_client_port": mem["clientPort"],
            "zk_live": mem["host"] in live,
        }
    for mem in m.get("members") or []:
        hostvars[mem["host"]] = member_vars(mem)
    for mem in m.get("outside") or []:
        # Removed by reconfig, still running outside the configuration
        # until its stop stage.
        hostvars.setdefault(mem["host"], member_vars(mem))
    for host in live:
        # A live host is always a member; keep it even if a later format
        # says otherwise, so its files are never left unmanaged.
        hostvars.setdefault(host, {"zk_live": True, "zk_datacenter": m.get("datacenters", {}).get(host, "")})
    steps = {}
    for s in m.get("steps") or []:
        if s["action"] in ("start", "restart", "stop"):
            steps[s["host"]] = s["action"]
    for host, v in hostvars.items():
        v["zk_step"] = steps.get(host, "")
    for host, v in hostvars.items():
        if v.get("zk_datacenter"):
            groups.setdefault("dc_" + v["zk_datacenter"], []).append(host)
    out = {
        "_meta": {"hostvars": hostvars},
        "all": {"children": ["zookeeper"]},
        "zookeeper": {
            "hosts": sorted(hostvars),
            "children": ["zookeeper_live"] + sorted(groups),
            "vars": {
                "zk_cluster": m["cluster"],
                "zk_stage": m["stage"],
                "zk_stage_name": m["name"],
                "zk_fingerprint": m["fingerprint"],
                # stage.json omits the method when it is rolling.
                "zk_method": m.get("method") or "rolling",
                "zk_dynamic": bool(m.get("dynamic")),
                "zk_rendered": os.path.dirname(os.path.abspath(path)),
            },
        },
        "zookeeper_live": {"hosts": sorted(live)},
    }
    for g, hosts in groups.items():
        out[g] = {"hosts": sorted(hosts)}
    return out


def main():
    inv = inventory(manifest_path())
    if len(sys.argv) == 3 and sys.argv[1] == "--host":
        json.dump(inv["_meta"]["hostvars"].get(sys.argv[2], {}), sys.stdout)
    else:
        json.dump(inv, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
