"Everything public in callbackopt: `from callbackopt.all import *`"
from .data import *
from .baseline import *
from .optimizer import *
