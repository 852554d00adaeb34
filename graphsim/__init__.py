"""graphsim: a local Microsoft Graph for MTD Guard's tests, demo and benchmarks.

A real HTTP server (standard library only) that answers the Intune Mobile Threat Defense
connector calls exactly as Graph does, so msgraph-sdk and plain httpx clients can be
pointed at it. See graphsim/README.md for the scenario and fault formats.
"""

from graphsim.faults import Fault, FaultError
from graphsim.raw_pages import RawPages
from graphsim.recording import RecordedRequest
from graphsim.scenario import ScenarioError
from graphsim.server import GraphSimulator

__all__ = ["Fault", "FaultError", "GraphSimulator", "RawPages", "RecordedRequest", "ScenarioError"]
