"""check_auditwheel.py [--libs-dir NAME] [--origin-of PATH] ARCHIVE...: a repaired wheel (or the
platform gem's unpacked data, see check_gem.sh) needs nothing outside the manylinux policy.

Run with the Python of scripts/wheel.sh's tools venv (auditwheel and its pyelftools). For a wheel:
`auditwheel show` must call it consistent with the first manylinux tag its file name claims
(not linux_x86_64); then, independently of auditwheel's report, every ELF file inside is read:
each DT_NEEDED must be a library shipped in the grafted directory (customerio_native.libs) or
one on that policy's list (libc, libm, libpthread, libz, ...), every grafted library must be
needed by something, and the extension's RUNPATH must lead from its own directory to the
grafted one."""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import zipfile
from typing import Dict, List, Set

import auditwheel
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

POLICY = pathlib.Path(auditwheel.__file__).parent / "policy" / "manylinux-policy.json"


def dynamic(path: pathlib.Path) -> Dict[str, List[str]]:
    with open(path, "rb") as f:
        elf = ELFFile(f)
        out: Dict[str, List[str]] = {"needed": [], "runpath": [], "soname": []}
        for section in elf.iter_sections():
            if not isinstance(section, DynamicSection):
                continue
            for tag in section.iter_tags():
                if tag.entry.d_tag == "DT_NEEDED":
                    out["needed"].append(tag.needed)
                elif tag.entry.d_tag in ("DT_RUNPATH", "DT_RPATH"):
                    out["runpath"].extend(getattr(tag, "runpath", getattr(tag, "rpath", "")).split(":"))
                elif tag.entry.d_tag == "DT_SONAME":
                    out["soname"].append(tag.soname)
        return out


def is_elf(path: pathlib.Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def check_tree(root: pathlib.Path, policy_name: str, libs_dir: str, ext_glob: str) -> List[str]:
    policies = {p["name"]: p for p in json.loads(POLICY.read_text())}
    # The dynamic loader is part of glibc: auditwheel allows it with libc.
    allowed = set(policies[policy_name]["lib_whitelist"]) | {"ld-linux-x86-64.so.2"}
    errors: List[str] = []
    elves = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p)]
    grafted = {p.name: p for p in elves if p.parent.name == libs_dir}
    needed_by_anyone: Set[str] = set()
    for elf in elves:
        info = dynamic(elf)
        for lib in info["needed"]:
            needed_by_anyone.add(lib)
            if lib not in grafted and lib not in allowed:
                errors.append("{} needs {}: neither grafted into {} nor in the {} policy".format(
                    elf.relative_to(root), lib, libs_dir, policy_name))
        if elf.parent.name == libs_dir and info["soname"] != [elf.name]:
            errors.append("{}: SONAME {} is not its file name".format(elf.name, info["soname"]))
    for name in grafted:
        if name not in needed_by_anyone:
            errors.append("{}/{} is shipped but nothing needs it".format(libs_dir, name))
    exts = sorted(root.glob(ext_glob))
    if len(exts) != 1:
        errors.append("expected one extension matching {}, found {}".format(ext_glob, exts))
    for ext in exts:
        target = (ext.parent / os.path.relpath(root / libs_dir, ext.parent)).resolve()
        runpath = [r.replace("$ORIGIN", str(ext.parent)) for r in dynamic(ext)["runpath"]]
        if not any(pathlib.Path(r).resolve() == target for r in runpath):
            errors.append("{}: RUNPATH {} does not lead to {}".format(
                ext.relative_to(root), dynamic(ext)["runpath"], libs_dir))
    if not grafted:
        errors.append("nothing grafted into {}".format(libs_dir))
    if not errors:
        print("{} ELF files, {} grafted libraries: every DT_NEEDED grafted or in {}".format(
            len(elves), len(grafted), policy_name))
    return errors


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--policy", help="for a tree (not a wheel): the policy to hold it to")
    ap.add_argument("--libs-dir", default="customerio_native.libs")
    ap.add_argument("--ext", default="customerio_native/_native*.so")
    ap.add_argument("path")
    args = ap.parse_args()
    path = pathlib.Path(args.path)
    errors: List[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        if path.suffix == ".whl":
            tags = re.findall(r"manylinux_\d+_\d+_x86_64", path.name)
            if not tags:
                print("{}: no manylinux tag in the file name".format(path.name))
                return 1
            show = subprocess.run(
                [os.path.join(os.path.dirname(sys.executable), "auditwheel"), "show", str(path)],
                capture_output=True, text=True, check=True).stdout
            said = re.search(r'consistent with the\s+following platform tag:\s+"([^"]+)"', show)
            if said is None or said.group(1) != tags[0]:
                print(show)
                print("auditwheel show does not say {}".format(tags[0]))
                return 1
            print("auditwheel show: {} is consistent with {}".format(path.name, tags[0]))
            with zipfile.ZipFile(path) as z:
                z.extractall(tmp)
            policy = tags[0].replace("_x86_64", "")
        else:
            policy = args.policy
            tmp = str(path)
        errors = check_tree(pathlib.Path(tmp), policy, args.libs_dir, args.ext)
    for e in errors:
        print("error: " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
