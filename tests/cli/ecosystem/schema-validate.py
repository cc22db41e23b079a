#!/usr/bin/env python3
"""schema-validate.py SCHEMA FILE: every line of FILE (JSON lines) is valid
against SCHEMA (draft 2020-12); each error names the file, line and path.
schema-validate.py --check-schemas SCHEMA...: each is a valid schema."""
import json
import sys

from jsonschema import Draft202012Validator


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(argv):
    if argv[1:2] == ["--check-schemas"]:
        for path in argv[2:]:
            schema = load(path)
            Draft202012Validator.check_schema(schema)
            if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
                print(f"{path}: $schema is not draft 2020-12", file=sys.stderr)
                return 1
        return 0
    schema_path, data_path = argv[1], argv[2]
    validator = Draft202012Validator(load(schema_path))
    bad = 0
    lines = 0
    with open(data_path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            lines += 1
            for e in validator.iter_errors(json.loads(line)):
                where = "/".join(str(p) for p in e.absolute_path) or "(top)"
                print(f"{data_path}:{n}: {where}: {e.message}", file=sys.stderr)
                bad += 1
    if not lines:
        print(f"{data_path}: no JSON lines to validate", file=sys.stderr)
        return 1
    return 1 if bad else 0


sys.exit(main(sys.argv))
