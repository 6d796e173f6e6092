"""Dell's Catalog.xml in, :mod:`domain.catalog` values out, streaming.

Dell's catalog is tens of megabytes (hundreds once UTF-16 is decoded), so it is never held
whole: bytes are fed in chunks to defusedxml's expat parser (the same incremental parser
``iterparse`` drives) with a target that keeps only the component being read, so memory
stays bounded by the largest single component. Expat honours the declared encoding and
the byte-order mark (Dell ships UTF-16LE with a BOM). defusedxml refuses any DTD,
entity declaration or external reference: Dell catalogs have none, and each is how
"billion laughs" and XXE attacks start.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from domain.catalog import (
    CatalogComponent,
    ComponentKind,
    Criticality,
    Manifest,
    PciId,
    SupportedDevice,
    SupportedSystem,
)

CHUNK = 1024 * 1024
_KINDS: dict[str, ComponentKind] = {
    "SoftwareComponent": "software",
    "InventoryComponent": "inventory",
}
_HEX4 = re.compile(r"^[0-9A-Fa-f]{1,4}$")
_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
# Child elements whose Display text we keep; every other Display (descriptions, revision
# history: most of the file) is skipped without being buffered.
_LABELLED = {"Name", "ComponentType", "Category", "Criticality", "Model", "Brand"}


class CatalogError(ValueError):
    """The catalog cannot be imported; the message names the line and the field."""


class _Draft:
    """The component being read: its attributes and what its children said so far."""

    __slots__ = ("attrs", "devices", "displays", "kind", "line", "sha256", "systems", "values")

    def __init__(self, kind: ComponentKind, attrs: dict[str, str], line: int) -> None:
        self.kind, self.attrs, self.line = kind, attrs, line
        self.values: dict[str, str] = {}  # ComponentType/Category/Criticality @value
        self.displays: dict[str, str] = {}
        self.devices: list[tuple[dict[str, str], list[PciId]]] = []
        self.systems: list[SupportedSystem] = []
        self.sha256: str | None = None


class _Builder:
    """The parser's target: start/end/data callbacks, one component at a time."""

    def __init__(self) -> None:
        self.expat: Any = None  # set once the parser exists: for line numbers
        self.manifest: Manifest | None = None
        self.ready: list[CatalogComponent] = []
        self.stack: list[str] = []
        self.draft: _Draft | None = None
        self.brand = ""
        self.text: list[str] | None = None  # collecting a Display or Hash text
        self.on_text: Callable[[bool], None] = lambda on: None  # text callbacks on/off

    @property
    def line(self) -> int:
        return int(self.expat.CurrentLineNumber)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        tag = tag.rpartition("}")[2]
        parent = self.stack[-1] if self.stack else None
        self.stack.append(tag)
        if parent is None:
            self._root(tag, attrs)
        elif tag in _KINDS and len(self.stack) == 2:
            self.draft = _Draft(_KINDS[tag], attrs, self.line)
        elif self.draft is not None:
            self._child(self.draft, tag, parent, attrs)

    def _root(self, tag: str, attrs: dict[str, str]) -> None:
        if tag != "Manifest":
            raise CatalogError(f"line {self.line}: root element is <{tag}>, expected <Manifest>")
        self.manifest = Manifest(
            version=attrs.get("version"),
            release_id=attrs.get("releaseID"),
            identifier=attrs.get("identifier"),
            predecessor_id=attrs.get("predecessorID"),
            date_time=attrs.get("dateTime"),
            base_location=attrs.get("baseLocation"),
            base_location_protocols=attrs.get("baseLocationAccessProtocols"),
        )

    def _child(self, draft: _Draft, tag: str, parent: str, attrs: dict[str, str]) -> None:
        if tag == "Display":
            if parent in _LABELLED and attrs.get("lang", "en") == "en":
                self._collect()
        elif tag == "Device":
            draft.devices.append((attrs, []))
        elif tag == "PCIInfo" and draft.devices:
            draft.devices[-1][1].append(self._pci(attrs))
        elif tag == "Brand":
            self.brand = attrs.get("prefix", "")
        elif tag == "Model":
            draft.systems.append(SupportedSystem(self._system_id(attrs), self.brand))
        elif tag in ("ComponentType", "Category", "Criticality"):
            draft.values[tag] = attrs.get("value", "")
        elif tag == "Hash" and attrs.get("algorithm", "").upper().replace("-", "") == "SHA256":
            self._collect()

    def _collect(self) -> None:
        self.text = []
        self.on_text(True)

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)

    def end(self, tag: str) -> None:
        tag = self.stack.pop()
        draft = self.draft
        if draft is None:
            return
        if self.text is not None:
            self._text_end(draft, tag)
        elif len(self.stack) == 1 and tag in _KINDS:
            self.ready.append(self._component(draft))
            self.draft = None

    def _text_end(self, draft: _Draft, tag: str) -> None:
        text = "".join(self.text or ()).strip()
        self.text = None
        self.on_text(False)
        if tag == "Hash":
            draft.sha256 = text
            return
        owner = self.stack[-1]
        if owner == "Model" and draft.systems:
            draft.systems[-1] = SupportedSystem(
                draft.systems[-1].system_id, draft.systems[-1].brand, text
            )
        elif owner != "Brand":
            draft.displays.setdefault(owner, text)

    def close(self) -> None:
        if self.manifest is None:
            raise CatalogError("the catalog is empty: no <Manifest> element")

    # --- values

    def _where(self, draft: _Draft, field: str) -> str:
        element = "SoftwareComponent" if draft.kind == "software" else "InventoryComponent"
        return f"line {draft.line}: {element}@{field}"

    def _pci(self, attrs: dict[str, str]) -> PciId:
        ids = {}
        for key in ("vendorID", "deviceID", "subVendorID", "subDeviceID"):
            value = attrs.get(key)
            if value is not None and not _HEX4.match(value):
                raise CatalogError(f"line {self.line}: PCIInfo@{key}: {value!r} is not a PCI id")
            ids[key] = value.upper().zfill(4) if value else None
        if ids["vendorID"] is None or ids["deviceID"] is None:
            raise CatalogError(f"line {self.line}: PCIInfo needs vendorID and deviceID")
        return PciId(ids["vendorID"], ids["deviceID"], ids["subVendorID"], ids["subDeviceID"])

    def _system_id(self, attrs: dict[str, str]) -> str:
        value = attrs.get("systemID", "")
        if not _HEX4.match(value):
            raise CatalogError(
                f"line {self.line}: Model@systemID: {value!r} is not a Dell SystemID "
                "(up to 4 hex digits)"
            )
        return value.upper().zfill(4)

    def _component(self, draft: _Draft) -> CatalogComponent:
        attrs = draft.attrs
        for field in ("path", "vendorVersion"):
            if not attrs.get(field, "").strip():
                raise CatalogError(f"{self._where(draft, field)}: missing")
        return CatalogComponent(
            kind=draft.kind,
            line=draft.line,
            path=attrs["path"].strip(),
            vendor_version=attrs["vendorVersion"].strip(),
            dell_version=attrs.get("dellVersion"),
            package_id=attrs.get("packageID"),
            release_id=attrs.get("releaseID"),
            name=draft.displays.get("Name", ""),
            component_type=draft.values.get("ComponentType"),
            category=draft.values.get("Category"),
            category_display=draft.displays.get("Category"),
            criticality=self._criticality(draft),
            reboot_required=self._flag(draft, "rebootRequired"),
            package_type=attrs.get("packageType"),
            size=self._size(draft),
            hash_md5=self._hash(draft, "hashMD5", attrs.get("hashMD5"), _MD5),
            hash_sha256=self._hash(
                draft, "SHA-256", attrs.get("hashSHA256") or draft.sha256, _SHA256
            ),
            date_time=attrs.get("dateTime"),
            release_date=attrs.get("releaseDate"),
            devices=tuple(self._device(draft, a, pci) for a, pci in draft.devices),
            systems=tuple(draft.systems),
        )

    def _device(self, draft: _Draft, attrs: dict[str, str], pci: list[PciId]) -> SupportedDevice:
        component_id = attrs.get("componentID", "").strip()
        if not component_id:
            raise CatalogError(f"line {draft.line}: Device@componentID: missing")
        return SupportedDevice(component_id, attrs.get("embedded") == "1", tuple(pci))

    def _criticality(self, draft: _Draft) -> Criticality | None:
        value = draft.values.get("Criticality")
        if value is None:
            return None
        if not value.strip().isdigit():
            raise CatalogError(f"line {draft.line}: Criticality@value: {value!r} is not a number")
        return Criticality.of(int(value), draft.displays.get("Criticality"))

    def _flag(self, draft: _Draft, field: str) -> bool | None:
        value = draft.attrs.get(field)
        if value is None:
            return None
        if value.lower() not in ("true", "false"):
            raise CatalogError(f"{self._where(draft, field)}: {value!r} is not true or false")
        return value.lower() == "true"

    def _size(self, draft: _Draft) -> int | None:
        value = draft.attrs.get("size")
        if value is None:
            return None
        if not value.strip().isdigit():
            raise CatalogError(f"{self._where(draft, 'size')}: {value!r} is not a byte count")
        return int(value)

    def _hash(
        self, draft: _Draft, field: str, value: str | None, shape: re.Pattern[str]
    ) -> str | None:
        if value is None:
            return None
        if not shape.match(value.strip()):
            raise CatalogError(f"{self._where(draft, field)}: {value!r} is not a hex digest")
        return value.strip().lower()


class CatalogReader:
    """Iterate the components of a catalog read from a binary stream; ``manifest`` is known
    once iteration has started (it is the root element).

    defusedxml's parser installs its refusals (DTD, entities, external references) on the
    expat parser; the element callbacks go straight from expat to the builder, skipping
    ElementTree's per-element wrappers, which cost more than the parse itself.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._builder = builder = _Builder()
        self._parser = DefusedXMLParser(target=builder, forbid_dtd=True)
        expat = builder.expat = self._parser.parser
        expat.ordered_attributes = False
        expat.StartElementHandler = builder.start
        expat.EndElementHandler = builder.end
        expat.DefaultHandlerExpand = None  # whitespace between elements: nothing to do
        builder.on_text = lambda on: setattr(
            expat, "CharacterDataHandler", builder.data if on else None
        )
        builder.on_text(False)

    @property
    def manifest(self) -> Manifest:
        if self._builder.manifest is None:
            raise CatalogError("the catalog has no <Manifest> element")
        return self._builder.manifest

    def read_manifest(self) -> Manifest:
        """Feed until the root element has been seen (components read meanwhile are kept)."""
        while self._builder.manifest is None and self._feed():
            pass
        return self.manifest

    def __iter__(self) -> Iterator[CatalogComponent]:
        while True:
            more = self._feed()
            ready, self._builder.ready = self._builder.ready, []
            yield from ready
            if not more:
                return

    def _feed(self) -> bool:
        chunk = self._stream.read(CHUNK)
        try:
            if chunk:
                self._parser.feed(chunk)
            else:
                self._parser.close()  # calls the builder's close(): was there a Manifest?
        except ParseError as exc:
            raise CatalogError(f"not well-formed XML: {exc}") from None
        except DefusedXmlException as exc:
            raise CatalogError(
                f"refused: {exc} (Dell catalogs declare no DTD or entities)"
            ) from None
        return bool(chunk)
