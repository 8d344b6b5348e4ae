"""Checks on a credentials file that credd shares with its user: it parses (botocore and credd),
credd's sections are complete, and every byte outside them is what the user wrote.

A section is credd's when the line after its header is the marker `# managed by credd`
(Sources/CreddINI/CreddManagedSection.swift). Everything else — the preamble, the user's
sections, their comments and blank lines — is the user's and must survive byte for byte.
"""
import os
import re
import subprocess

import botocore.configloader

MARKER = "# managed by credd"
HEADER = re.compile(r"^\s*\[[^\]]*\]")
KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")


def split_sections(text):
    """(header_or_None, chunk_text) pairs; a chunk runs from its header to the next header."""
    chunks = []
    current_header, current = None, []
    for line in text.splitlines(keepends=True):
        if HEADER.match(line):
            chunks.append((current_header, "".join(current)))
            current_header, current = line.strip(), [line]
        else:
            current.append(line)
    chunks.append((current_header, "".join(current)))
    return chunks


def is_managed(chunk):
    lines = chunk.splitlines()
    return len(lines) > 1 and lines[1].strip() == MARKER


def unmanaged_bytes(text):
    """The user's part of the file: every chunk that is not credd's, concatenated."""
    return "".join(chunk for header, chunk in split_sections(text) if header is None or not is_managed(chunk))


def managed_sections(text):
    """{section name: {key: value}} for credd's sections."""
    sections = {}
    for header, chunk in split_sections(text):
        if header is None or not is_managed(chunk):
            continue
        values = {}
        for line in chunk.splitlines()[2:]:
            if "=" in line and not line.lstrip().startswith(("#", ";")):
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
        sections[header.strip("[] ")] = values
    return sections


# What a user's file holds before credd arrives: comments, the CLI's layout, a hand edit with
# CRLF, a tab and unicode, an inline comment, an empty value, an indented sub-section. It ends
# with a blank line so that credd's appended sections add no byte to the user's part.
USER_CREDENTIALS = (
    "# written by aws configure, edited by hand\n"
    "[default]\n"
    "aws_access_key_id = AKIAUSEREXAMPLE00001\n"
    "aws_secret_access_key = user-default-secret-not-real\n"
    "\n"
    "; a colleague's sandbox — ünïcode stays\r\n"
    "[sandbox]\r\n"
    "aws_access_key_id\t= AKIAUSEREXAMPLE00002\r\n"
    "aws_secret_access_key = sandbox-secret-not-real # inline\r\n"
    "region =\r\n"
    "s3 =\n"
    "    max_concurrent_requests = 20\n"
    "\n"
)


class Violation(Exception):
    pass


def check(path, original_unmanaged, expected_sections=None, credd_binary=None, environment=None):
    """Raises Violation naming what is wrong; returns the managed sections when all is well."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        raise Violation("the credentials file is gone")
    if not data:
        raise Violation("the credentials file is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Violation(f"not UTF-8: {error}")
    try:
        botocore.configloader.raw_config_parse(path)
    except Exception as error:  # botocore raises several types; any is a failure
        raise Violation(f"botocore cannot parse it: {type(error).__name__}: {error}")
    if credd_binary:
        parsed = subprocess.run([credd_binary, "check"], env=environment, capture_output=True, text=True, timeout=30)
        if parsed.returncode != 0:
            raise Violation(f"credd check exits {parsed.returncode}: {parsed.stdout[-400:]}{parsed.stderr[-400:]}")
    unmanaged = unmanaged_bytes(text)
    if unmanaged != original_unmanaged:
        raise Violation("bytes outside credd's sections changed")
    sections = managed_sections(text)
    for name, values in sections.items():
        missing = [key for key in KEYS if not values.get(key)]
        if missing:
            raise Violation(f"section [{name}] is incomplete: no {', '.join(missing)}")
    if expected_sections is not None:
        unexpected = set(sections) - set(expected_sections)
        if unexpected:
            raise Violation(f"unexpected credd sections: {sorted(unexpected)}")
    return sections


def temporary_files(directory):
    """credd's temp files beside the credentials file (`.credentials.credd-*.tmp`)."""
    return [name for name in os.listdir(directory) if name.startswith(".credentials.credd-") and name.endswith(".tmp")]
