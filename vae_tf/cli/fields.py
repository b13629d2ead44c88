"""`vae-tf config`: every `VAEConfig` field with its type, default and
meaning (units and allowed values as `VAEConfig`'s docstring states
them), the one list of what `vae-tf train --set FIELD=VALUE` and a JSON
`--config` accept."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import textwrap


def add_config(commands) -> None:
    p = commands.add_parser(
        "config", help="list every VAEConfig field: type, default, meaning",
        description="Every field of VAEConfig (what train --set FIELD=VALUE "
                    "and --config FILE.json set), its type, default and "
                    "meaning.")
    p.add_argument("--json", action="store_true",
                   help="print the defaults as a config.json instead")
    p.set_defaults(func=_config)


def field_docs() -> dict[str, str]:
    """Field name -> its entry in `VAEConfig`'s docstring (an entry
    naming several fields, `epochs, batch_size: a; b`, gives each its
    part; a field without its own entry points to the entries that
    mention it)."""
    from vae_tf.config import VAEConfig

    entries: list[tuple[list[str], str]] = []
    for line in (VAEConfig.__doc__ or "").splitlines():
        match = re.match(r"^ {8}([a-z_][a-z_, ]*):\s(.*)$", line)
        if match:
            names = [n.strip() for n in match.group(1).split(",")]
            entries.append((names, match.group(2).strip()))
        elif entries and line.startswith(" " * 12):
            names, text = entries[-1]
            entries[-1] = (names, f"{text} {line.strip()}")
    # `a, b: text for a; text for b.`: one part per name.
    split = []
    for names, text in entries:
        parts = text.rstrip(".").split("; ")
        if len(names) > 1 and len(parts) == len(names):
            split.extend(([n], p + ".") for n, p in zip(names, parts))
        else:
            split.append((names, text))
    entries = split
    docs = {}
    for field in dataclasses.fields(VAEConfig):
        own = [text for names, text in entries if field.name in names]
        mentioned = [f"a parameter of {names[0]} (see there)."
                     for names, text in entries
                     if f"`{field.name}`" in text and field.name not in
                     names]
        docs[field.name] = " ".join(own or mentioned)
    return docs


def field_table() -> list[tuple[str, str, str, str]]:
    """`(name, type, default as JSON, meaning)` per field, in order."""
    from vae_tf.config import VAEConfig

    docs = field_docs()
    defaults = VAEConfig().to_dict()
    return [(f.name, str(f.type).replace("typing.", ""),
             json.dumps(defaults[f.name]), docs[f.name])
            for f in dataclasses.fields(VAEConfig)]


def _config(args: argparse.Namespace) -> int:
    if args.json:
        from vae_tf.config import VAEConfig

        print(json.dumps(VAEConfig().to_dict(), indent=2))
        return 0
    for name, kind, default, doc in field_table():
        print(f"{name} = {default}  ({kind})")
        print(textwrap.fill(doc or "(no description)", 78,
                            initial_indent="    ", subsequent_indent="    "))
    return 0
