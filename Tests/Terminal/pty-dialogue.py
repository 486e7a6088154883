#!/usr/bin/env python3
"""Runs a program on a pseudo-terminal and plays a dialogue with it, as a
person at a terminal would (used by the CLI's prompt tests).

usage: pty-dialogue.py [--timeout SECONDS] STEP... -- PROGRAM [ARG...]

Steps, in order:
  --expect TEXT           wait until the program has written TEXT (after the
                          previous match)
  --type TEXT             wait until the terminal's echo is off (a password
                          prompt has taken the terminal), then type TEXT and
                          Return, as a person would after the prompt appeared

The program inherits the environment. Prints one JSON object on stdout:
{"status": exit status (negative: killed by that signal), "transcript": all the
program wrote to the terminal, "error": null or what did not happen}. Exits 0
whenever it could run the program; a step that times out ends the dialogue (the
program is killed) and is named in "error".
"""
import json
import os
import pty
import select
import signal
import sys
import termios
import time


def main(argv):
    try:
        separator = argv.index("--")
    except ValueError:
        sys.exit("usage: pty-dialogue.py [--timeout S] [--expect TEXT | --type TEXT]... -- PROGRAM [ARG...]")
    options, command = argv[:separator], argv[separator + 1:]
    timeout, steps, i = 60.0, [], 0
    while i < len(options):
        if options[i] == "--timeout":
            timeout = float(options[i + 1])
        elif options[i] in ("--expect", "--type"):
            steps.append((options[i], options[i + 1]))
        else:
            sys.exit(f"unknown option {options[i]}")
        i += 2

    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv(command[0], command)
        finally:
            os._exit(127)

    deadline = time.monotonic() + timeout
    transcript = bytearray()
    position = 0
    error = None
    ended = False

    def read_more(wait):
        """Reads what the program wrote within `wait` seconds; False at its end."""
        nonlocal ended
        ready, _, _ = select.select([fd], [], [], max(0.0, wait))
        if not ready:
            return True
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the program closed the terminal (exited)
            data = b""
        if not data:
            ended = True
            return False
        transcript.extend(data)
        return True

    for kind, text in steps:
        if kind == "--expect":
            wanted = text.encode()
            while True:
                found = transcript.find(wanted, position)
                if found >= 0:
                    position = found + len(wanted)
                    break
                if ended or time.monotonic() > deadline:
                    error = f"never saw {text!r}" + (" (the program ended)" if ended else f" within {timeout} s")
                    break
                read_more(deadline - time.monotonic())
        else:
            # Typed too early, the line would be flushed when the prompt turns
            # echo off (TCSAFLUSH), as it is for a person typing ahead.
            while not error:
                try:
                    echo_on = termios.tcgetattr(fd)[3] & termios.ECHO
                except termios.error:
                    echo_on, ended = True, True
                if not echo_on:
                    break
                if ended or time.monotonic() > deadline:
                    error = f"the terminal's echo never went off before typing {text!r}"
                    break
                read_more(0.02)
            if not error:
                os.write(fd, text.encode() + b"\r")
        if error:
            break

    if error:
        os.kill(pid, signal.SIGKILL)
    while not ended and time.monotonic() < deadline + 5:
        read_more(deadline + 5 - time.monotonic())
    if not ended:
        os.kill(pid, signal.SIGKILL)
        error = error or "the program did not end"
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps({"status": code, "transcript": transcript.decode("utf-8", "replace"), "error": error}))


if __name__ == "__main__":
    main(sys.argv[1:])
