"""llmrec: the library of the book *Large language models in recommender systems and user-interest transfer*.

One pipeline, easy to see::

    data = load_dataset("ml-100k")                 # data
    split = leave_one_out(data.interactions)        # split
    model = make_model("itemknn").fit(split.fit_data("test"))   # model.fit
    result = evaluate(model, split, k=10)           # model.score -> evaluate
    run(RunConfig(models=["pop", "itemknn"])).table # -> report
"""

from ._errors import ChecksumError, ConfigError, DataFormatError, DataUnavailableError
from ._interactions import Interactions
from ._seed import DEFAULT_SEED, numpy_rng, torch_generator
from .data import Dataset, load_dataset
from .evaluation import METRICS, EvaluationResult, evaluate
from .models import MODELS, Recommender, make_model
from .pipeline import RunConfig, run
from .split import Split, global_temporal_split, k_core, k_fold, leave_one_out, random_holdout

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_SEED",
    "METRICS",
    "MODELS",
    "ChecksumError",
    "ConfigError",
    "DataFormatError",
    "DataUnavailableError",
    "Dataset",
    "EvaluationResult",
    "Interactions",
    "Recommender",
    "RunConfig",
    "Split",
    "evaluate",
    "global_temporal_split",
    "k_core",
    "k_fold",
    "leave_one_out",
    "load_dataset",
    "make_model",
    "numpy_rng",
    "random_holdout",
    "run",
    "torch_generator",
]
