"""kefu (客服): assess and improve a shop's customer service by marketplace rules."""

from kefu.api import Result, assess
from kefu.explain.explain import Explanation, explain
from kefu.rules.profile import Profile, load_profile

__all__ = ["Explanation", "Profile", "Result", "assess", "explain", "load_profile"]
