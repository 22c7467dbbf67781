"Everything public in callbackopt: `from callbackopt.all import *`"
from .data import *
from .baseline import *
from .optimizer import *
from .basics import *
from .momentum import *
from .rmsprop import *
from .adam import *
from .wd_variants import *
from .callbacks import *
from .compare import compare, OPTIMIZERS, get_opt_func, train_one, summarize, to_markdown, plot_comparison
from .fast import *
