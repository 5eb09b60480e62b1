#!/usr/bin/env python3
"""Make sure a virtualenv exists and holds one exact, pinned PyPI distribution.

    venv_install.py VENV_DIR NAME==VERSION

Used by relay_check.py and bugsink-up.sh so that a fresh CI machine (python3 + pip, nothing
else) can bootstrap the interop tools on first use. Idempotent and cheap when already done:
it only asks the venv's python whether the pinned version is installed.

Some distro pythons ship without `ensurepip` (Debian's python3-venv split), which makes
`python -m venv` fail. Then the venv is created without pip and the *outer* pip installs into
it through `pip --python` (pip >= 22.3), so we still never touch the system site-packages.
"""
import os
import shutil
import subprocess
import sys


def log(msg):
    print("[venv_install] %s" % msg, file=sys.stderr)


def venv_python(venv):
    return os.path.join(venv, "bin", "python")


def has_requirement(venv, requirement):
    name, version = requirement.split("==", 1)
    py = venv_python(venv)
    if not os.path.exists(py):
        return False
    check = ("import importlib.metadata as m, sys\n"
             "try: sys.exit(m.version(%r) != %r)\n"
             "except m.PackageNotFoundError: sys.exit(1)\n") % (name, version)
    return subprocess.call([py, "-c", check], stderr=subprocess.DEVNULL) == 0


# progress bars and the "new pip available" notice only clutter CI logs
PIP_INSTALL = ["install", "-q", "--disable-pip-version-check", "--no-input"]


def create_and_install(venv, requirement):
    py = venv_python(venv)
    if not os.path.exists(py):
        shutil.rmtree(venv, ignore_errors=True)  # leftovers of an interrupted run
        if subprocess.call([sys.executable, "-m", "venv", venv], stdout=sys.stderr) != 0:
            log("'python -m venv' failed (no ensurepip?); retrying with --without-pip")
            shutil.rmtree(venv, ignore_errors=True)  # the failed attempt leaves a venv without pip
            subprocess.check_call([sys.executable, "-m", "venv", "--without-pip", venv], stdout=sys.stderr)
    if subprocess.call([py, "-m", "pip", "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
        pip = [py, "-m", "pip"]
    else:
        pip = [sys.executable, "-m", "pip", "--python", py]  # the outer pip installs into the venv
    subprocess.check_call(pip + PIP_INSTALL + [requirement], stdout=sys.stderr)


def ensure(venv, requirement):
    """Return the venv's python path once `requirement` (NAME==VERSION) is installed there."""
    venv = os.path.abspath(venv)
    if has_requirement(venv, requirement):
        return venv_python(venv)  # the common case: no lock, one quick subprocess
    os.makedirs(os.path.dirname(venv), exist_ok=True)
    # Two checks started together on a fresh clone must not build the same venv at once.
    with open(venv + ".lock", "w") as lock:
        try:
            import fcntl
            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # not POSIX; the scripts need bash anyway
            pass
        if not has_requirement(venv, requirement):  # the other process may have done it
            log("installing %s into %s" % (requirement, venv))
            create_and_install(venv, requirement)
            if not has_requirement(venv, requirement):
                sys.exit("[venv_install] %s still missing from %s after install" % (requirement, venv))
    return venv_python(venv)


def interop_dir():
    """${INTEROP_DIR:-target/interop}, relative paths taken from the repo root (parent of scripts/)."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.join(repo, os.environ.get("INTEROP_DIR") or os.path.join("target", "interop"))


if __name__ == "__main__":
    if len(sys.argv) != 3 or "==" not in sys.argv[2]:
        sys.exit(__doc__)
    try:
        print(ensure(sys.argv[1], sys.argv[2]))
    except subprocess.CalledProcessError as e:
        sys.exit("[venv_install] failed: %s" % e)
