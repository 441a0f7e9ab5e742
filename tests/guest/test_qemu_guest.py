"""The prebuilt teaching kernel and its bug zoo, booted under real QEMU.

Each test drives the console like a user: wait for `$ `, type a command,
read what comes back. The correct kernel must pass every program; each
bug-zoo kernel must show its own wrong behaviour.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.guest.qemu_console import (
    GUEST,
    PREBUILT,
    Step,
    qemu_available,
    run_console,
    run_shell,
)

qemu = pytest.mark.skipif(
    not qemu_available(), reason="qemu-system-riscv64 is not installed"
)

BANNER = "cowtui teaching kernel: xv6-style, copy-on-write fork"
KILLED = "usertrap(): unexpected scause"
ALL_PROGRAMS = (
    "cowdemo",
    "forkexec",
    "forktree",
    "cowstress",
    "pipecopy",
    "badaccess",
    "cowcheck",
)


def kernel(bug: str | None = None):
    return PREBUILT / ("kernel.elf" if bug is None else f"kernel-{bug}.elf")


@pytest.mark.qemu
@qemu
def test_boots_to_the_shell_and_powers_off():
    session = run_shell(kernel(), "echo hello cow", "nosuch")
    lines = session.transcript.splitlines()
    assert lines[1] == BANNER
    assert lines[2] == (
        "disk: init sh echo freemem cowdemo forkexec forktree cowstress "
        "pipecopy badaccess cowcheck"
    )
    assert "$ echo hello cow\nhello cow\n" in session.transcript
    assert "$ nosuch\nsh: no such program: nosuch\n" in session.transcript
    assert session.transcript.endswith("$ halt\n")
    assert session.returncode == 0  # halt wrote 0x5555 to the test finisher


@pytest.mark.qemu
@qemu
def test_correct_kernel_passes_every_program():
    session = run_shell(kernel(), *ALL_PROGRAMS)
    t = session.transcript
    assert session.returncode == 0, t
    assert "FAIL" not in t and "panic" not in t, t
    for line in (
        "cowdemo: ok, the parent's page is unchanged",
        "forkexec: hello from echo, exec'd in the child",
        "forkexec: child exited with status 0",
        "forktree: generation 2 (pid 9) sees 8 shared pages of 'A'",
        "forktree: generation 0 still sees 'A' everywhere: ok",
        "cowstress: 4 children x 32 pages x 3 rounds: data ok",
        "cowstress: all frames returned",
        "pipecopy: ok",
        "badaccess: all killed, ok",
        "cowcheck: ALL PASSED",
    ):
        assert line + "\n" in t, line
    # badaccess kills 6 children, cowcheck 3 (text, MAXVA, out of memory)
    assert t.count(KILLED) == 9
    # pids are deterministic: init 1, sh 2, then one per process in script order
    assert (
        "usertrap(): unexpected scause 0xf pid=22\n            sepc=0xdc stval=0x4000000000\n"
        in t
    )
    assert "usertrap(): unexpected scause 0xd pid=23\n" in t


@pytest.mark.qemu
@qemu
def test_transcript_is_deterministic():
    """The same script gives the same transcript: the basis of the differential tests."""
    first = run_shell(kernel(), "cowdemo", "pipecopy", "cowcheck").transcript
    second = run_shell(kernel(), "cowdemo", "pipecopy", "cowcheck").transcript
    assert first == second


# bug -> (commands, lines the transcript must contain, the panic it ends in or None)
BUG_ZOO = {
    "copyout-ignores-cow": (
        ["cowcheck", "pipecopy"],
        [
            (
                "cowcheck: FAIL read() into a shared page copies it: "
                "copyout() wrote into the frame the parent still maps"
            ),
            'pipecopy: parent reads "sent through the pipe"',
            "pipecopy: FAIL copyout wrote into the parent's page",
        ],
        None,
    ),
    "refcount-leak": (
        ["cowcheck"],
        [
            (
                "cowcheck: FAIL child writes its copy, parent keeps its data: "
                "9 frames not returned to the free list"
            )
        ],
        None,
    ),
    "double-free": (
        ["cowdemo"],
        [
            'cowdemo: parent reads ""',
            "cowdemo: FAIL the child's write reached the parent",
        ],
        "panic: kfree: frame is already free",
    ),
    "text-becomes-writable": (
        ["cowcheck", "badaccess"],
        [
            (
                "cowcheck: FAIL text stays read-only after fork: "
                "the child stored to its text page and was not killed"
            ),
            "badaccess: store to read-only text (0xc)\nbadaccess: FAIL not killed",
        ],
        None,
    ),
    "no-maxva-check": (
        ["cowcheck"],
        ["cowcheck: store at MAXVA is killed: the child must be killed:"],
        "panic: walk",
    ),
    "oom-panics": (
        ["cowcheck"],
        ["cowcheck: out of memory in a COW fault is killed: the child must be killed:"],
        "panic: cowfault: out of memory",
    ),
}


@pytest.mark.qemu
@qemu
@pytest.mark.parametrize("bug", sorted(BUG_ZOO))
def test_bug_zoo_kernel_shows_its_bug(bug):
    commands, expected, panic = BUG_ZOO[bug]
    session = run_shell(kernel(bug), *commands)
    t = session.transcript
    assert t.splitlines()[1] == f"{BANNER} [bug zoo: {bug}]"
    for text in expected:
        assert text in t, f"{text!r} missing from:\n{t}"
    if panic is None:
        assert "panic" not in t, t
        assert session.returncode == 0, t
    else:
        assert t.rstrip("\n").endswith(panic), t
        assert session.stopped_on == "panic: " and session.returncode is None


@pytest.mark.qemu
@qemu
def test_double_free_also_breaks_cowcheck():
    session = run_shell(kernel("double-free"), "cowcheck")
    assert "cowcheck: ALL PASSED" not in session.transcript
    assert session.transcript.rstrip("\n").endswith(
        "panic: kfree: frame is already free"
    )


@pytest.mark.qemu
@qemu
def test_console_line_editing_and_steps():
    """Backspace erases; a step can wait for any text, not only the prompt."""
    session = run_console(
        kernel(),
        steps=[
            Step("$ ", "echo abx\x7fc\n"),
            Step("abc\n"),
            Step("$ ", "halt\n"),
        ],
    )
    assert "abc\n$ halt\n" in session.transcript
    assert session.returncode == 0


toolchain = pytest.mark.skipif(
    shutil.which("riscv64-unknown-elf-gcc") is None or shutil.which("make") is None,
    reason="riscv64-unknown-elf-gcc is not installed",
)


@pytest.mark.toolchain
@toolchain
def test_prebuilt_matches_the_sources():
    result = subprocess.run(
        ["make", "-C", str(GUEST), "--no-print-directory", "check-prebuilt"],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check-prebuilt: prebuilt/ matches the sources" in result.stdout
