import sys
from pathlib import Path

# Tests run against the package in this directory, installed or not.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[3]
