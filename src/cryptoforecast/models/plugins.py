"""Users' own forecasters, named by configuration: found, imported, checked and kept by model type.

The setting ``models.plugins`` (``CRYPTOFORECAST_MODELS__PLUGINS='["ridge_momentum"]'``) lists
them; each entry is one of:

* ``name``: an entry point named ``name`` in the ``cryptoforecast.models`` group of an installed
  distribution (``[project.entry-points."cryptoforecast.models"] name = "pkg.module:Class"``);
* ``package.module:Class``: a class in an importable module;
* ``path/to/file.py:Class``: a class in a Python file (a relative path is read from the working
  directory).

Nothing is imported unless it is named there: an installed distribution's entry point is only
listed, never loaded, until the setting names it. :func:`~cryptoforecast.models.catalog.load_plugins`
imports them once, at start-up, on the main thread (the CLI's commands, ``create_app``,
``train_model``, or a ``Predictor`` built in Python when it first needs one), never lazily from a
request thread.

A plug-in is a :class:`~cryptoforecast.models.base.BaseForecaster` subclass (so its artifact is its
own native files under the hashed manifest, via ``_save_native``/``_load_native``: no pickle), with
a ``model_type`` string of its own, constructible as ``Cls(horizon=h)`` (``random_state=`` too when
it takes one), whose unfitted instance is a :class:`~cryptoforecast.models.base.Forecaster`.
Anything else is a :class:`~cryptoforecast.exceptions.ConfigError` naming the plug-in, what is
wrong and how to fix it.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, version
from pathlib import Path

from cryptoforecast.exceptions import ConfigError
from cryptoforecast.models.base import BaseForecaster, Forecaster

__all__ = [
    "ENTRY_POINT_GROUP",
    "Plugin",
    "PluginRegistry",
    "import_plugin",
    "import_plugins",
    "plugin_registry",
]

#: the entry-point group a distribution declares its forecasters in
ENTRY_POINT_GROUP = "cryptoforecast.models"


@dataclass(frozen=True)
class Plugin:
    """One user forecaster, loaded and checked.

    ``name`` is what the artifact's registry record keeps: the entry point's name, the
    ``module:Class`` as configured, or ``file.py:Class`` (the file's name, not its directory).
    ``version`` is the distribution's version (``None`` for a module or a file)."""

    spec: str
    name: str
    model_type: str
    cls: type[BaseForecaster]
    version: str | None

    def record(self) -> dict[str, str | None]:
        """What a registry record keeps of the plug-in: its name and version."""
        return {"name": self.name, "version": self.version}


class PluginRegistry:
    """The plug-ins a process loaded, by model type (filled at start-up, read by the catalog)."""

    def __init__(self) -> None:
        self._by_type: dict[str, Plugin] = {}
        self._lock = threading.Lock()

    def add(self, plugin: Plugin) -> None:
        """Keep ``plugin``; a second, different class under its model type is a ConfigError."""
        with self._lock:
            held = self._by_type.get(plugin.model_type)
            if held is not None and held.cls is not plugin.cls:
                raise ConfigError(
                    f"plug-ins {held.spec!r} and {plugin.spec!r} both declare model_type "
                    f"{plugin.model_type!r}; give one of them another model_type"
                )
            self._by_type[plugin.model_type] = plugin

    def get(self, model_type: str) -> Plugin | None:
        return self._by_type.get(model_type)

    def by_spec(self, spec: str) -> Plugin | None:
        return next((p for p in self._by_type.values() if p.spec == spec), None)

    def plugins(self) -> tuple[Plugin, ...]:
        return tuple(self._by_type.values())

    def classes(self) -> dict[str, type[BaseForecaster]]:
        """model_type -> class of every plug-in loaded, in load order."""
        return {name: p.cls for name, p in self._by_type.items()}

    def clear(self) -> None:
        with self._lock:
            self._by_type.clear()


@functools.cache
def plugin_registry() -> PluginRegistry:
    """The process's plug-ins (created empty on first use)."""
    return PluginRegistry()


def _entry_point(name: str) -> EntryPoint:
    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not found:
        installed = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
        raise ConfigError(
            f"plug-in {name!r}: no entry point {name!r} in group {ENTRY_POINT_GROUP!r} "
            f"(installed: {', '.join(installed) or 'none'}); install the distribution that "
            "declares it, or name the class as 'package.module:Class' or 'path/to/file.py:Class'"
        )
    return found[0]


def _from_file(spec: str, file: str, attr: str) -> object:
    path = Path(file).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"plug-in {spec!r}: no file {str(path)!r}; give the path of a Python file, "
            "relative to the working directory or absolute"
        )
    module_name = f"cryptoforecast_plugin_{path.stem}"  # one name per file stem: a second
    # file with the same stem gets its own model_type check (the registry refuses a clash)
    loader_spec = importlib.util.spec_from_file_location(module_name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise ConfigError(f"plug-in {spec!r}: {str(path)!r} cannot be imported as a Python file")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module  # dataclasses and typing look their module up here
    try:
        loader_spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise ConfigError(
            f"plug-in {spec!r}: importing {path.name} failed: {type(exc).__name__}: {exc}; "
            "fix the file"
        ) from exc
    return _attribute(spec, module, attr)


def _from_module(spec: str, module_name: str, attr: str) -> object:
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ConfigError(
            f"plug-in {spec!r}: cannot import module {module_name!r}: {type(exc).__name__}: "
            f"{exc}; install it or put it on PYTHONPATH"
        ) from exc
    return _attribute(spec, module, attr)


def _attribute(spec: str, module: object, attr: str) -> object:
    found: object = module
    for part in attr.split("."):
        if not hasattr(found, part):
            raise ConfigError(
                f"plug-in {spec!r}: {getattr(module, '__name__', module)!r} has no attribute "
                f"{attr!r}; name the forecaster class after the ':'"
            )
        found = getattr(found, part)
    return found


def _checked(spec: str, obj: object, reserved: Collection[str]) -> type[BaseForecaster]:
    """``obj`` if it is a usable forecaster class, else a ConfigError saying what to fix."""
    if not isinstance(obj, type):
        raise ConfigError(
            f"plug-in {spec!r} is a {type(obj).__name__}, not a class; name a subclass of "
            "cryptoforecast.models.BaseForecaster"
        )
    if not issubclass(obj, BaseForecaster):
        raise ConfigError(
            f"plug-in {spec!r}: {obj.__name__} is not a subclass of "
            "cryptoforecast.models.BaseForecaster; subclass it and implement _fit, _predict and "
            "(for learned state) _save_native/_load_native, so its artifact is hashed native files"
        )
    model_type = getattr(obj, "model_type", None)
    if (
        not isinstance(model_type, str)
        or not model_type.isidentifier()
        or model_type == BaseForecaster.model_type
    ):
        raise ConfigError(
            f"plug-in {spec!r}: {obj.__name__}.model_type is {model_type!r}; set a class "
            "attribute model_type = 'your_model' (a name of its own: letters, digits, '_')"
        )
    if model_type in reserved:
        raise ConfigError(
            f"plug-in {spec!r}: model_type {model_type!r} is a built-in model's; give "
            f"{obj.__name__} another model_type"
        )
    try:
        instance = obj(horizon=1)
    except Exception as exc:
        raise ConfigError(
            f"plug-in {spec!r}: {obj.__name__}(horizon=1) failed: {type(exc).__name__}: {exc}; "
            "its constructor must take horizon= (and random_state= if it has a seed) with "
            "defaults for every other parameter"
        ) from exc
    if not isinstance(instance, Forecaster):
        missing = sorted(
            name
            for name in ("fit", "predict", "predict_interval", "save_model", "load_model")
            if not callable(getattr(instance, name, None))
        )
        raise ConfigError(
            f"plug-in {spec!r}: an unfitted {obj.__name__} is not a Forecaster "
            f"(missing {missing or 'members of the protocol'}); implement them"
        )
    for hook in ("_fit", "_predict"):
        if getattr(obj, hook) is getattr(BaseForecaster, hook):
            raise ConfigError(
                f"plug-in {spec!r}: {obj.__name__} does not implement {hook}; implement _fit "
                "and _predict (see cryptoforecast.models.BaseForecaster)"
            )
    return obj


def import_plugin(spec: str, reserved: Collection[str]) -> Plugin:
    """Import and check the plug-in ``spec`` (an entry-point name, ``module:Class`` or
    ``file.py:Class``); ``reserved``: the built-in model types it may not take."""
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(
            f"models.plugins entry {spec!r} is not a plug-in name; use an entry-point name, "
            "'package.module:Class' or 'path/to/file.py:Class'"
        )
    target, _, attr = spec.rpartition(":")
    version_: str | None = None
    if not target:  # an entry point's name
        ep = _entry_point(spec)
        try:
            obj = ep.load()
        except Exception as exc:
            raise ConfigError(
                f"plug-in {spec!r}: loading entry point {ep.value!r} failed: "
                f"{type(exc).__name__}: {exc}; reinstall the distribution that declares it"
            ) from exc
        dist = getattr(ep, "dist", None)
        version_ = getattr(dist, "version", None)
        if version_ is None and dist is not None:
            try:
                version_ = version(dist.name)
            except PackageNotFoundError:
                version_ = None
        name = spec
    elif target.endswith(".py"):
        obj = _from_file(spec, target, attr)
        name = f"{Path(target).name}:{attr}"
    else:
        obj = _from_module(spec, target, attr)
        name = spec
    cls = _checked(spec, obj, reserved)
    return Plugin(spec=spec, name=name, model_type=str(cls.model_type), cls=cls, version=version_)


def import_plugins(
    specs: Iterable[str],
    reserved: Collection[str],
    registry: PluginRegistry,
    *,
    any_thread: bool = False,
) -> tuple[Plugin, ...]:
    """Each of ``specs`` imported once (a spec already in ``registry`` is not imported again).

    A spec not loaded yet is imported only on the main thread (start-up), unless ``any_thread``
    (a Dask worker process, which answers no requests): a request thread or a background job
    of the service never imports code, and a plug-in named after start-up is a ConfigError."""
    loaded = []
    for spec in specs:
        plugin = registry.by_spec(spec)
        if plugin is None:
            thread = threading.current_thread()
            if not any_thread and thread is not threading.main_thread():
                raise ConfigError(
                    f"plug-in {spec!r} is not loaded, and plug-ins are imported only at "
                    f"start-up, on the main thread (this is thread {thread.name!r}); name it "
                    "in models.plugins before the process starts (restart the service)"
                )
            plugin = import_plugin(spec, reserved)
        registry.add(plugin)
        loaded.append(plugin)
    return tuple(loaded)
