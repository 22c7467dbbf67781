"Everything public in callbackopt: `from callbackopt.all import *`"
from .data import *
from .baseline import *
from .optimizer import *
from .basics import *
from .momentum import *
from .rmsprop import *
from .adam import *
from .wd_variants import *
from .more import *
from .more_torch import *
from .callbacks import *
from .registry import *
from .compare import *
from .fast import *
