# lbuild's bytecode worker: reads `<dfile>\t<length>\n` and that many bytes of source from
# stdin, answers `ok\t<length>\n<pyc>` or `err\t<message>\n`. The pyc is PEP 552, unchecked
# hash, its marshal data canonical (dumped, loaded and dumped again, so that reference flags
# depend only on the code object itself).
import sys

if sys.path and sys.path[0] == "":
    del sys.path[0]

import importlib.util
import marshal


def main():
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    magic = importlib.util.MAGIC_NUMBER
    stdout.write(b"ready %s %s %d\n" % (
        sys.version.split()[0].encode(), magic.hex().encode(), sys.flags.hash_randomization))
    stdout.flush()
    while True:
        line = stdin.readline()
        if not line:
            return
        dfile, length = line.rstrip(b"\n").rsplit(b"\t", 1)
        source = stdin.read(int(length))
        try:
            code = compile(source, dfile.decode("utf-8"), "exec", dont_inherit=True, optimize=0)
            data = marshal.dumps(marshal.loads(marshal.dumps(code)))
            pyc = magic + (1).to_bytes(4, "little") + importlib.util.source_hash(source) + data
            stdout.write(b"ok\t%d\n" % len(pyc))
            stdout.write(pyc)
        except (SyntaxError, ValueError, UnicodeDecodeError, OverflowError, RecursionError, MemoryError) as err:
            message = ("%s: %s" % (type(err).__name__, err)).replace("\n", " ")
            stdout.write(b"err\t" + message.encode("utf-8", "backslashreplace") + b"\n")
        stdout.flush()


main()
