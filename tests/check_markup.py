#!/usr/bin/env python3
"""check_markup.py FILE...: each .svg must be well-formed XML whose root is
an <svg> element; each .html must have balanced tags (HTML void elements
aside), hold at least one inline <svg>, and load nothing from outside
(no src= attribute, no link or script element, only #fragment links).
Exit 0 if every file passes, 1 with the reasons otherwise."""
import sys
import xml.dom.minidom
from html.parser import HTMLParser

VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "embed", "source", "track", "wbr"}


class Checker(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.svgs = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "link", "iframe", "img"):
            self.errors.append(f"<{tag}> would load or run something")
        for k, v in attrs:
            if k == "src" or (k == "href" and v and not v.startswith("#")):
                self.errors.append(f"external reference {k}={v!r}")
        if tag == "svg":
            self.svgs += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()


def check(path):
    if path.endswith(".svg"):
        try:
            doc = xml.dom.minidom.parse(path)
        except Exception as e:  # the parser's message names line and column
            return [f"not well-formed: {e}"]
        if doc.documentElement.tagName != "svg":
            return ["root element is not <svg>"]
        return []
    c = Checker()
    with open(path, encoding="utf-8") as f:
        c.feed(f.read())
    c.close()
    if c.stack:
        c.errors.append(f"unclosed: {c.stack}")
    if not c.svgs:
        c.errors.append("no inline <svg>")
    return c.errors


bad = 0
for p in sys.argv[1:]:
    for e in check(p):
        print(f"{p}: {e}")
        bad = 1
sys.exit(bad)
