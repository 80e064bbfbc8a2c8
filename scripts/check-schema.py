#!/usr/bin/env python3
"""Checks scenario files against scenarios/schema.json.

    python3 scripts/check-schema.py                 # every scenarios/*.yaml
    python3 scripts/check-schema.py FILE.yaml ...   # the files given

Exit status: 0 if every file matches, 1 if one does not (each problem is printed as
file: key.path: message), 2 if `jsonschema` or `PyYAML` is missing.

The schema catches misspelt keys, wrong types and values out of range; rules that
tie several values together (band names of the policy, non-overlapping bands, slot
order, totals over districts) are checked by `slotsim validate FILE` only.

YAML is read the way slotsim (Yams) reads it where PyYAML differs: mapping keys are
their text, `1e9` is a number, dates stay text, and duplicate keys, aliases (`*name`)
and merge keys (`<<`) are errors.
"""

import pathlib
import re
import sys

try:
    import jsonschema
    import yaml
except ImportError as error:
    print(f"check-schema: {error.name or error} is not installed; install the checker's packages with", file=sys.stderr)
    print("    python3 -m pip install jsonschema pyyaml", file=sys.stderr)
    print("or in a virtual environment:", file=sys.stderr)
    print("    python3 -m venv /tmp/schemavenv && /tmp/schemavenv/bin/pip install jsonschema pyyaml", file=sys.stderr)
    print("    /tmp/schemavenv/bin/python scripts/check-schema.py", file=sys.stderr)
    sys.exit(2)

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "scenarios" / "schema.json"
ERRORS_PER_FILE_MAX = 20


class ScenarioLoader(yaml.SafeLoader):
    """PyYAML's safe loader, brought closer to Yams (see the module comment)."""


# Dates and times stay text (slotsim reads any scalar as text where it expects text).
ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# Floats without a dot or with an unsigned exponent (1e9, 2.5e3), as Yams (and YAML 1.2) read them.
ScenarioLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def construct_mapping(loader, node, deep=False):
    if not isinstance(node, yaml.MappingNode):
        raise yaml.constructor.ConstructorError(None, None, f"expected a mapping, found {node.id}", node.start_mark)
    mapping = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(None, None, "keys must be plain text", key_node.start_mark)
        key = key_node.value
        if key in mapping:
            raise yaml.constructor.ConstructorError(None, None, f'duplicate key "{key}"', key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


ScenarioLoader.add_constructor("tag:yaml.org,2002:map", construct_mapping)


def load(text):
    """The document, or raises yaml.YAMLError / ValueError with a position."""
    previous = None
    for token in yaml.scan(text, Loader=ScenarioLoader):
        mark = token.start_mark
        if isinstance(token, yaml.AliasToken):
            raise ValueError(f"line {mark.line + 1}, column {mark.column + 1}: aliases (*name) are not supported in scenario files; write the values out")
        if isinstance(token, yaml.ScalarToken) and token.plain and token.value == "<<" and isinstance(previous, yaml.KeyToken):
            raise ValueError(f"line {mark.line + 1}, column {mark.column + 1}: merge keys (<<) are not supported in scenario files; write the values out")
        previous = token
    return yaml.load(text, Loader=ScenarioLoader)


def key_path(path):
    text = ""
    for component in path:
        text += f"[{component}]" if isinstance(component, int) else (f".{component}" if text else str(component))
    return text or "(top level)"


def describe(error):
    """One line for a schema error, in the words of slotsim's messages where that helps."""
    if error.instance is None:
        return "has no value: give one, or leave the key out"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(known))
        return f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(repr(k) for k in unknown)}; known keys here: {', '.join(known)}"
    if error.validator in ("minProperties", "maxProperties") and isinstance(error.instance, dict):
        return f"expected exactly one of {', '.join(error.schema.get('properties', {}))}; found {', '.join(error.instance) or 'none'}"
    if error.validator in ("minItems", "maxItems") and isinstance(error.instance, list):
        low, high = error.schema.get("minItems", 0), error.schema.get("maxItems")
        wanted = f"{low}" if low == high else (f"{low} to {high}" if high is not None else f"at least {low}")
        return f"expected {wanted} items, found {len(error.instance)}"
    if error.validator == "contains" and error.validator_value.get("exclusiveMinimum") == 0:
        return "expected at least one value above 0"
    if error.validator == "not" and "required" in error.validator_value:
        return f"give {' or '.join(error.validator_value['required'])}, not both"
    if error.validator == "anyOf" and error.schema.get("description"):
        wanted = error.schema["description"].rstrip(".")
        found = "" if isinstance(error.instance, (dict, list)) else f"; found {error.instance!r}"
        return f"expected {wanted[0].lower()}{wanted[1:]}{found}"
    return error.message


# A whole number is an int: slotsim (Yams) refuses 1e6 or 3.0 where it expects one, while JSON
# Schema's "integer" takes any number without a fractional part.
StrictValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda checker, instance: isinstance(instance, int) and not isinstance(instance, bool)),
)


def check(path, validator):
    """Problems in the file at `path`, as printable lines (empty if it matches)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return [f"cannot read the file: {error}"]
    try:
        document = load(text)
    except (yaml.YAMLError, ValueError) as error:
        return [" ".join(str(error).split())]
    if document is None:
        return ["the file is empty; expected a mapping of keys"]
    errors = sorted(validator.iter_errors(document), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    lines = [f"{key_path(e.absolute_path)}: {describe(e)}" for e in errors[:ERRORS_PER_FILE_MAX]]
    if len(errors) > ERRORS_PER_FILE_MAX:
        lines.append(f"... and {len(errors) - ERRORS_PER_FILE_MAX} more")
    return lines


def main(arguments):
    try:
        schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))  # JSON is YAML
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, yaml.YAMLError, jsonschema.SchemaError) as error:
        print(f"{SCHEMA}: not a valid JSON Schema: {error}", file=sys.stderr)
        return 1
    validator = StrictValidator(schema)
    files = [pathlib.Path(a) for a in arguments] or sorted((ROOT / "scenarios").glob("*.yaml"))
    if not files:
        print("check-schema: no scenario files found", file=sys.stderr)
        return 1
    failed = 0
    for path in files:
        shown = path.relative_to(ROOT) if path.is_absolute() and path.is_relative_to(ROOT) else path
        problems = check(path, validator)
        if problems:
            failed += 1
            for problem in problems:
                print(f"{shown}: {problem}")
        else:
            print(f"{shown}: ok")
    if failed:
        print(f"check-schema: {failed} of {len(files)} file(s) do not match {SCHEMA.relative_to(ROOT)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
