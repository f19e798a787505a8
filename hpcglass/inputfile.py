"""The input-file layer under :mod:`hpcglass.config`: reading the file, parsing its YAML, the
one-line error messages, and the filter on PETSc options.

Contract:

* :func:`read_input` returns the file's text, or raises :class:`ConfigError` (one line naming
  the file) when it cannot be read or is not UTF-8.
* :func:`load_yaml` parses that text with PyYAML's safe loader, refusing a mapping that has the
  same key twice; a syntax error becomes a ConfigError naming the file, line and column.
* :func:`unsafe_petsc_option` / :func:`check_petsc_argv` say why a PETSc option from the input
  or the command line is refused ('' when it may pass): nothing that views, logs, monitors or
  names files gets through.
* ``_fail``, ``_quote`` and ``_cut`` build the ``<file>: <key> = <value>: expected ...``
  messages that every validation error uses; quoted values are cut to ``_QUOTE_MAX``
  characters so that a message stays one line.

It knows nothing of ensembles, kinds or tasks: schema and validation are config's.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_QUOTE_MAX = 60                # characters of a quoted value in a message


class ConfigError(ValueError):
    """Invalid input file; the message is meant for the user as it stands."""


# ----------------------------------------------------------------------------- messages
def _quote(value: Any) -> str:
    """repr of a value for a message, cut to _QUOTE_MAX characters (an alias bomb stays one line)."""
    text = repr(value) if isinstance(value, (str, int, float, bool, type(None))) else _short_repr(value)
    return text if len(text) <= _QUOTE_MAX else text[:_QUOTE_MAX - 3] + "..."


def _short_repr(value: Any) -> str:
    """repr of a container without walking all of it (YAML aliases can make it exponential)."""
    import reprlib

    r = reprlib.Repr()
    r.maxlevel, r.maxstring, r.maxother = 3, _QUOTE_MAX, _QUOTE_MAX
    return r.repr(value)


def _fail(path: str, key: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(f"{path}: {_quote(key) if not isinstance(key, str) else _cut(key)} = {_quote(value)}: "
                       f"expected {expected}")


def _cut(text: str) -> str:
    return text if len(text) <= _QUOTE_MAX else text[:_QUOTE_MAX - 3] + "..."


# ----------------------------------------------------------------------------- PETSc options
# PETSc options that write files or open viewers/debuggers (an input must not overwrite files).
_UNSAFE_PETSC = re.compile(r"view|log|monitor|options_file|history|dump|trace|draw|debug|info|malloc|"
                           r"python|saws|output|save|file|prefix_push", re.IGNORECASE)
_SAFE_PETSC_VALUE = re.compile(r"[A-Za-z0-9_.+-]*")


def unsafe_petsc_option(name: str, value: str) -> str:
    """Why PETSc option ``name`` (without '-') with ``value`` is refused, or '' if it may pass.

    Refused: options that view, log, monitor, dump, trace or read other option files (they take
    file names), and values with anything but letters, digits and ``_ . + -`` (paths, viewer
    specs such as ``ascii:out.txt``)."""
    if _UNSAFE_PETSC.search(name):
        return "a solver option: options that view, log, monitor, dump or name files are not accepted"
    if not _SAFE_PETSC_VALUE.fullmatch(value):
        return "a value of letters, digits and _ . + - (no paths or viewer specifications)"
    return ""


def check_petsc_argv(argv: list[str]) -> str:
    """'' if the PETSc command-line options ``argv`` (after ``--``) may pass, else a one-line reason."""
    name = None
    for token in argv:
        if token.startswith("-") and not re.fullmatch(r"-[0-9.].*", token):
            name = token.lstrip("-")
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
                return f"PETSc option {_quote(token)}: expected -name [value]"
            problem = unsafe_petsc_option(name, "")
        elif name is None:
            return f"PETSc argument {_quote(token)}: expected an option -name before it"
        else:
            problem = unsafe_petsc_option(name, token)
        if problem:
            return f"PETSc option -{_cut(name)} {_quote(token) if token != '-' + name else ''}".rstrip() + \
                f": expected {problem}"
    return ""


# ----------------------------------------------------------------------------- the file and its YAML
class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice (PyYAML keeps the last silently)."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:  # unhashable key: SafeLoader's own error follows
            break
        if duplicate:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {_quote(key)}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""


def read_input(path: str) -> str:
    """The text of an input file; ConfigError (one line, naming the file) if it cannot be read
    or is not UTF-8."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


def load_yaml(text: str, path: str) -> Any:
    """The YAML document of ``text`` (any YAML value; config checks its shape); ConfigError for
    invalid YAML or a duplicate key, naming ``path`` and, where known, the line and column."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {_cut(str(exc).splitlines()[0]) if str(exc) else exc}"
                          f"{_where(exc)}") from None
