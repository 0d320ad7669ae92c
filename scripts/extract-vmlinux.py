#!/usr/bin/env python3
"""Extract the uncompressed kernel ELF from an XZ-compressed bzImage (for QEMU PVH boot:
decompressing under TCG emulation is slow). Usage: extract-vmlinux.py BZIMAGE OUT"""
import lzma
import sys

data = open(sys.argv[1], "rb").read()
magic = b"\xfd7zXZ\x00"
pos = data.find(magic)
while pos >= 0:
    try:
        out = lzma.LZMADecompressor().decompress(data[pos:])
        if out[:4] == b"\x7fELF":
            open(sys.argv[2], "wb").write(out)
            sys.exit(0)
    except lzma.LZMAError:
        pass
    pos = data.find(magic, pos + 1)
sys.exit("no XZ-compressed ELF found in " + sys.argv[1])
