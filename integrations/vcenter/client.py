"""A synchronous pyvmomi session for one thread (pyvmomi stubs are not thread-safe).

Use one client per activity attempt or per worker thread. TLS is verified unless the
caller explicitly opts out; every socket has a timeout so a hung vCenter cannot pin a
thread-pool worker; an expired session (NotAuthenticated) is renewed once per call.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import SecretStr
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

from integrations.vcenter.bulk import ScalarObject, retrieve_scalars
from integrations.vcenter.errors import VCenterConnectionError, VCenterError

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 60.0

# pyVim.connect keeps the last connection in a module global (pyvmomi #868):
# serialise connect/disconnect so concurrent activity threads do not race on it.
_CONNECT_LOCK = threading.Lock()


@dataclass(frozen=True)
class VCenterSettings:
    """Where and how to log in. The password is a SecretStr so it never prints."""

    url: str
    username: str
    password: SecretStr
    ca_bundle: Path | None = None
    insecure: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        if self.insecure and self.ca_bundle is not None:
            raise ValueError("ca_bundle and insecure exclude each other")
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {self.timeout_s}")
        parse_url(self.url)

    def ssl_context(self) -> ssl.SSLContext:
        if self.insecure:
            return ssl._create_unverified_context()  # noqa: S323 (explicit opt-in)
        cafile = str(self.ca_bundle) if self.ca_bundle else None
        try:
            return ssl.create_default_context(cafile=cafile)
        except (OSError, ssl.SSLError) as exc:
            raise VCenterConnectionError(f"ca_bundle {self.ca_bundle}: {exc}") from None


def parse_url(url: str) -> tuple[str, int, str]:
    """(host, port, path) of an https vCenter URL; a bare host name means port 443, /sdk."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    if parts.scheme != "https":
        raise ValueError(f"url {url!r}: vCenter is reached over https only")
    if not parts.hostname:
        raise ValueError(f"url {url!r}: no host name")
    return parts.hostname, parts.port or 443, parts.path if parts.path not in ("", "/") else "/sdk"


@dataclass
class VCenterClient:
    """One logged-in session; counts SOAP round trips so benchmarks can report them."""

    settings: VCenterSettings
    round_trips: int = field(default=0, init=False)
    _si: Any = field(default=None, init=False, repr=False)
    _content: Any = field(default=None, init=False, repr=False)

    def __enter__(self) -> VCenterClient:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def connect(self) -> None:
        host, port, path = parse_url(self.settings.url)
        try:
            with _CONNECT_LOCK:
                self._si = SmartConnect(
                    protocol="https",
                    host=host,
                    port=port,
                    path=path,
                    user=self.settings.username,
                    pwd=self.settings.password.get_secret_value(),
                    sslContext=self.settings.ssl_context(),
                    httpConnectionTimeout=self.settings.timeout_s,
                )
        except vim.fault.InvalidLogin:
            raise VCenterConnectionError(
                f"{host}:{port} refused the login of user {self.settings.username!r}"
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise VCenterConnectionError(
                f"{host}:{port}: TLS certificate not trusted ({exc.verify_message}); "
                "pass a CA bundle, or opt in to insecure explicitly"
            ) from None
        except (OSError, ssl.SSLError) as exc:
            raise VCenterConnectionError(f"cannot reach vCenter at {host}:{port}: {exc}") from None
        self._count_round_trips(self._si._stub)
        self._content = self._si.RetrieveContent()

    def close(self) -> None:
        if self._si is not None:
            with _CONNECT_LOCK, suppress(OSError, vmodl.MethodFault):  # gone either way
                Disconnect(self._si)
            self._si = None
            self._content = None

    @property
    def content(self) -> vim.ServiceInstanceContent:
        """Fetched once at login: its managers are session-independent references."""
        if self._content is None:
            raise VCenterError("not connected: call connect() or use the client as a context")
        return self._content

    @property
    def _service_instance(self) -> vim.ServiceInstance:
        if self._si is None:
            raise VCenterError("not connected: call connect() or use the client as a context")
        return self._si

    def managed_object(self, kind: type[T], moid: str) -> T:
        """A reference bound to this session's stub (it survives re-login)."""
        return kind(moid, self._service_instance._stub)  # type: ignore[call-arg]

    def call(self, operation: Callable[[], T]) -> T:
        """Run ``operation``; if the session expired, log in again and run it once more.

        NotAuthenticated means vCenter did not execute the call, so the retry is safe
        even for calls that change state.
        """
        try:
            return operation()
        except vim.fault.NotAuthenticated:
            self._login_again()
            return operation()

    def _login_again(self) -> None:
        manager = self.content.sessionManager
        try:
            manager.Login(self.settings.username, self.settings.password.get_secret_value())
        except vim.fault.InvalidLogin:
            raise VCenterConnectionError(
                f"session expired and the login of user {self.settings.username!r} was refused"
            ) from None

    def session_key(self) -> str:
        return self.call(lambda: self.content.sessionManager.currentSession.key)

    def _count_round_trips(self, stub: Any) -> None:
        for name in ("InvokeMethod", "InvokeAccessor"):
            original = getattr(stub, name)

            def counted(*args: Any, _original: Callable[..., Any] = original) -> Any:
                self.round_trips += 1
                return _original(*args)

            setattr(stub, name, counted)

    def retrieve_view(
        self,
        paths: dict[type, list[str]],
        scalar_paths: dict[type, list[str]] | None = None,
        root: Any = None,
    ) -> ViewRead:
        """Every object of the given types under ``root`` (default: the root folder).

        One container view, one RetrievePropertiesEx for ``paths`` and one for
        ``scalar_paths`` (read by the fast scalar reader), plus continuation pages if the
        server pages: the number of round trips does not grow with the inventory.
        """
        return self.call(lambda: self._retrieve_view(paths, scalar_paths or {}, root))

    def _retrieve_view(
        self, paths: dict[type, list[str]], scalar_paths: dict[type, list[str]], root: Any
    ) -> ViewRead:
        content = self.content
        with self._container_view(content, root, [*paths, *scalar_paths]) as view:
            objects = (
                self._retrieve(content.propertyCollector, [_view_spec(view, paths)])
                if paths
                else []
            )
            scalars: list[ScalarObject] = []
            if scalar_paths:
                scalars, trips = retrieve_scalars(
                    self._service_instance._stub,
                    content.propertyCollector,
                    _view_spec(view, scalar_paths),
                )
                self.round_trips += trips
            return ViewRead(objects=objects, scalars=scalars)

    def retrieve_objects(
        self, objects: list[Any], kind: type, props: list[str]
    ) -> list[vmodl.query.PropertyCollector.ObjectContent]:
        """Properties of specific objects of one type, in one request."""
        if not objects:
            return []
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=o) for o in objects],
            propSet=[vmodl.query.PropertyCollector.PropertySpec(type=kind, pathSet=props)],
        )
        return self.call(lambda: self._retrieve(self.content.propertyCollector, [spec]))

    @contextmanager
    def _container_view(self, content: Any, root: Any, kinds: list[type]) -> Iterator[Any]:
        container = content.rootFolder if root is None else root
        view = content.viewManager.CreateContainerView(container, kinds, True)
        try:
            yield view
        finally:
            with suppress(vmodl.MethodFault):  # views die with the session anyway
                view.DestroyView()

    @staticmethod
    def _retrieve(collector: Any, specs: list[Any]) -> list[Any]:
        options = vmodl.query.PropertyCollector.RetrieveOptions()
        result = collector.RetrievePropertiesEx(specs, options)
        objects: list[Any] = []
        while result is not None:
            objects.extend(result.objects)
            if not result.token:
                break
            result = collector.ContinueRetrievePropertiesEx(result.token)
        return objects


@dataclass(frozen=True)
class ViewRead:
    objects: list[vmodl.query.PropertyCollector.ObjectContent]
    scalars: list[ScalarObject]


def _view_spec(view: Any, paths: dict[type, list[str]]) -> Any:
    traverse = vmodl.query.PropertyCollector.TraversalSpec(
        name="view", type=vim.view.ContainerView, path="view", skip=False
    )
    return vmodl.query.PropertyCollector.FilterSpec(
        objectSet=[
            vmodl.query.PropertyCollector.ObjectSpec(obj=view, skip=True, selectSet=[traverse])
        ],
        propSet=[
            vmodl.query.PropertyCollector.PropertySpec(type=kind, pathSet=props)
            for kind, props in paths.items()
        ],
    )


def props_of(obj: vmodl.query.PropertyCollector.ObjectContent) -> dict[str, Any]:
    return {prop.name: prop.val for prop in obj.propSet}


def wait_for_task(
    client: VCenterClient, task: vim.Task, deadline: float, poll_s: float
) -> vim.TaskInfo | None:
    """The task's final info, or None if ``deadline`` (time.monotonic) passed first."""
    while True:
        info = client.call(lambda: task.info)
        if info.state in (vim.TaskInfo.State.success, vim.TaskInfo.State.error):
            return info
        if time.monotonic() >= deadline:
            return None
        time.sleep(poll_s)


_UNDER_WAY = (vim.TaskInfo.State.queued, vim.TaskInfo.State.running)


def tasks_under_way(client: VCenterClient, entities: list[Any], kind: type) -> list[TaskUnderWay]:
    """Queued or running tasks on any of ``entities`` (managed objects of ``kind``),
    whoever started them: a retry follows an earlier attempt's task instead of racing it.

    Read from the entities' recentTask and, as vcsim fills only that one, the TaskManager's."""
    if not entities:
        return []
    found = client.retrieve_objects(entities, kind, ["recentTask"])
    tasks = [task for obj in found for task in props_of(obj).get("recentTask") or []]
    tasks += client.call(lambda: client.content.taskManager.recentTask) or []
    unique = list({task._moId: task for task in tasks}.values())
    wanted = {entity._moId for entity in entities}
    paths = ["info.descriptionId", "info.entity", "info.state"]
    under_way = []
    for task in client.retrieve_objects(unique, vim.Task, paths):
        info = props_of(task)
        entity = info.get("info.entity")
        if entity is not None and entity._moId in wanted and info.get("info.state") in _UNDER_WAY:
            under_way.append(TaskUnderWay(task.obj, entity._moId, info.get("info.descriptionId")))
    return under_way


@dataclass(frozen=True)
class TaskUnderWay:
    task: vim.Task
    entity: str  # moid of the object the task works on
    description_id: str | None


def fault_text(fault: Any) -> str:
    """A vCenter fault in words: its type and the most specific message it carries."""
    name = type(fault).__name__.rsplit(".", 1)[-1]
    messages = [m.message for m in getattr(fault, "faultMessage", None) or [] if m.message]
    detail = "; ".join(messages) or getattr(fault, "reason", None) or getattr(fault, "msg", "")
    return f"{name}: {detail}" if detail and not str(detail).startswith("*types.") else name
