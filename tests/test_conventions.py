#!/usr/bin/env python3
"""The mechanical API conventions of doc/design.md, checked on the installed
headers and the user documentation:

  1. no public function takes more than MAX_PARAMS parameters (longer calls
     take an options struct);
  2. every public enum has a name function lpc_<enum>_name (or, for the
     status codes, lpc_status_name);
  3. every options struct starts with a `size_t size` field and has an
     lpc_<fn>_options_init function;
  4. no installed header, document or program source speaks of team notes
     (SPEC), issue numbers or acceptance checks.

LEGACY lists the declarations that predate the conventions; it may only
shrink. Usage: test_conventions.py SOURCE_ROOT"""
import pathlib
import re
import sys

MAX_PARAMS = 6

# Declarations made before the conventions were written down.
LEGACY_LONG = {
    "lpc_arcface_flags", "lpc_batchnorm2d", "lpc_conv2d_new", "lpc_cosface_flags",
    "lpc_dataset_from_memory", "lpc_deepfool", "lpc_deepfool_perturb", "lpc_deepfool_pick",
    "lpc_gradcheck", "lpc_head_loss", "lpc_head_new", "lpc_kl_entropy", "lpc_nc_compute",
    "lpc_nc_compute_flags", "lpc_resnet_new", "lpc_schedule_eval", "lpc_schedule_eval_ex",
}
LEGACY_UNNAMED_ENUMS = {
    "lpc_binarity_metric", "lpc_comm_type", "lpc_head_loss_kind", "lpc_head_setting",
    "lpc_l2_target", "lpc_lr_decay", "lpc_name_style", "lpc_nc_metric", "lpc_npy_dtype",
    "lpc_protocol", "lpc_resnet_block", "lpc_sched_value", "lpc_stream_metric",
}

FORBIDDEN = [
    (re.compile(r"\bSPEC\b"), "cites the team notes (SPEC); cite doc/method.md"),
    (re.compile(r"\bissue\s+#?\d+", re.I), "speaks of an issue number"),
    (re.compile(r"acceptance check", re.I), "speaks of an acceptance check"),
    (re.compile(r"\b(?:this|last|next|earlier|previous) (?:round|session)\b|\bround \d+\b", re.I),
     "speaks of the team's rounds or sessions"),
]


def strip_comments(text):
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def declarations(headers):
    """(name, parameter count) of every LPC_API function."""
    for h in headers:
        code = strip_comments(h.read_text())
        for m in re.finditer(r"LPC_API\s+[^;{]*?\b(lpc_\w+)\s*\(([^;]*?)\)\s*;", code, re.S):
            params = m.group(2).strip()
            n = 0 if params in ("", "void") else params.count(",") + 1
            yield m.group(1), n


def enums(headers):
    for h in headers:
        code = strip_comments(h.read_text())
        for m in re.finditer(r"typedef\s+enum\s*(?:\w+\s*)?\{[^}]*\}\s*(lpc_\w+)\s*;", code, re.S):
            yield m.group(1)


def options_structs(headers):
    for h in headers:
        code = strip_comments(h.read_text())
        for m in re.finditer(r"typedef\s+struct\s*(?:\w+\s*)?\{([^}]*)\}\s*(lpc_\w+_options)\s*;", code, re.S):
            yield m.group(2), m.group(1)


def main():
    root = pathlib.Path(sys.argv[1])
    headers = sorted((root / "include" / "lpc").glob("*.h"))
    problems = []
    decls = dict(declarations(headers))
    if len(decls) < 100:
        problems.append(f"only {len(decls)} public functions parsed: the parser is broken")
    for name, n in sorted(decls.items()):
        if n > MAX_PARAMS and name not in LEGACY_LONG:
            problems.append(f"{name} takes {n} parameters (more than {MAX_PARAMS}: use an options struct)")
    for e in sorted(set(enums(headers))):
        if e + "_name" not in decls and e not in LEGACY_UNNAMED_ENUMS:
            problems.append(f"enum {e} has no name function {e}_name")
    for name, body in options_structs(headers):
        first = body.strip().split(";")[0].split()
        if first[-2:] != ["size_t", "size"] and first != ["size_t", "size"]:
            problems.append(f"{name} does not start with size_t size")
        if name + "_init" not in decls:
            problems.append(f"{name} has no {name}_init")
    texts = headers + sorted((root / "doc").glob("*.md")) + [root / "README.md"]
    texts += sorted((root / "examples").rglob("*.c")) + sorted((root / "examples").rglob("*.h"))
    texts += sorted((root / "python" / "lpc").glob("*.py"))
    for path in texts:
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            for pattern, why in FORBIDDEN:
                if pattern.search(line):
                    problems.append(f"{path.relative_to(root)}:{lineno} {why}")
    for p in problems:
        print(p)
    print(f"conventions: {len(decls)} public functions, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
