"""What a newcomer meets on the command line: message prefixes, the progress line on a narrow
terminal, and the README's replay commands typed in order (issue 17)."""
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios

from conftest import SOURCE_ROOT

SMOKE = SOURCE_ROOT / "scenarios" / "smoke.scn"


def test_every_message_names_the_command(rvmsim, tmp_path):
    """Issue: library errors (a scenario's parse error, a file that cannot be opened, the
    simulator refusing parameters) lacked the `rvmsim: CMD:` prefix."""
    missing = tmp_path / "missing.scn"
    for cmd in (["run", missing], ["sweep", missing, "--seeds", "1..2"],
                ["shrink", missing, "--seed", 1, "-o", tmp_path / "o.scn"],
                ["runs", "--db", tmp_path / "no" / "x.db"], ["run", SMOKE, "--seed", "x"],
                ["targets", "nosuch"], ["verify", "--db", tmp_path / "no" / "x.db"]):
        proc = rvmsim(*cmd, check=False)
        assert proc.returncode == 2
        for line in proc.stderr.splitlines():
            if line and not line.startswith("usage:") and not line.startswith(" "):
                assert line.startswith(f"rvmsim: {cmd[0]}: "), (cmd, proc.stderr)


def run_on_a_terminal(argv, columns):
    """argv with stderr (and stdout) on a pseudo-terminal `columns` wide; everything it wrote."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    data = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        data += chunk
    proc.wait(timeout=60)
    os.close(master)
    return proc.returncode, data.decode()


def test_progress_line_fits_a_narrow_terminal(rvmsim):
    """Issue: on a narrow terminal the progress line wrapped and piled up."""
    rc, out = run_on_a_terminal([rvmsim.path, "sweep", str(SMOKE), "--seeds", "1..3000",
                                 "--jobs", "2", "--progress"], 40)
    assert rc == 0, out
    drawn = [seg for seg in out.split("\r\033[K") if re.match(r"sweep: \d+/3000 ", seg)]
    assert drawn, out
    for seg in drawn:
        line = seg.split("\r")[0].split("\n")[0]
        assert len(line) < 40, line


def readme_block(after):
    text = (SOURCE_ROOT / "README.md").read_text()
    return text.split(after)[1].split("```sh\n")[1].split("```")[0]


def test_readme_replay_commands_work_in_order(rvmsim, tmp_path):
    """Issue: the README's replay block failed when typed in order (a diff of a run that did
    not exist yet). Run as written, with /tmp this test's directory and 200-seed sweeps."""
    block = readme_block("Runs can be stored and examined in a replay store")
    for line in block.splitlines():
        cmd = line.split("  #")[0].strip()
        if not cmd:
            continue
        cmd = cmd.replace("/tmp/", f"{tmp_path}/").replace("1..100000", "1..200")
        cmd = cmd.replace("build/cli/rvmsim", os.path.abspath(rvmsim.path))
        proc = subprocess.run(["bash", "-c", cmd], cwd=SOURCE_ROOT, capture_output=True,
                              text=True)
        assert proc.returncode == 0, (line, proc.stdout[-2000:], proc.stderr[-2000:])
        if " diff " in cmd:
            assert proc.stdout.startswith("identical")
        if " merge " in cmd:
            assert "200 runs added" in proc.stdout
