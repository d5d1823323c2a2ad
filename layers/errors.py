"""Errors that a user can act on.

Every problem with an input file is raised as :class:`LayerError`, which names
the file, the row as a spreadsheet user counts it (the header is row 1, the
first data row is row 2), the column and the fix.  The message never contains
the offending *value*: the same code reads 要配慮者 registers, whose cell values
must not reach a log or a screen.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["LayerError", "ParameterError", "spreadsheet_row"]


def spreadsheet_row(index: int, *, header_rows: int = 1) -> int:
    """Return the row number a spreadsheet shows for the 0-based data row ``index``."""
    return int(index) + header_rows + 1


class LayerError(ValueError):
    """A problem with an input layer or region file that the user can fix.

    Parameters
    ----------
    problem
        What is wrong, in Japanese (one sentence, no cell values).
    file
        The file concerned.
    row
        The row as a spreadsheet counts it (header = 1), or a line number of a
        TOML file, when the problem sits in one row.
    column
        The column (or config key) concerned.
    fix
        What the user should do.
    layer
        The layer key (``shelters``, ``places`` …) when known.
    config
        ``(toml file, line, key)`` of the region-config entry that named the
        file, so that file-level problems (a broken zip, a missing file) still
        point at a row and a key the user can edit.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        fix: str | None = None,
        layer: str | None = None,
        config: tuple[str | Path, int | None, str] | None = None,
    ) -> None:
        self.problem = problem
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.fix = fix
        self.layer = layer
        self.config = (str(config[0]), config[1], config[2]) if config else None
        super().__init__(self.message)

    @property
    def location(self) -> str:
        """``file 12行目 列「緯度」`` — where the problem is."""
        parts = []
        if self.file:
            parts.append(f"ファイル {self.file}")
        if self.row is not None:
            parts.append(f"{self.row}行目")
        if self.column is not None:
            parts.append(f"列「{self.column}」")
        if self.layer and not self.file:
            parts.append(f"レイヤー {self.layer}")
        return " ".join(parts)

    @property
    def message(self) -> str:
        text = f"{self.location}: {self.problem}" if self.location else self.problem
        if self.config:
            cfile, cline, ckey = self.config
            where = f"{cline}行目 " if cline else ""
            text += f"\n  設定: {cfile} {where}「{ckey}」"
        if self.fix:
            text += f"\n  対処: {self.fix}"
        return text

    def with_context(
        self,
        *,
        file: str | Path | None = None,
        layer: str | None = None,
        config: tuple[str | Path, int | None, str] | None = None,
    ) -> LayerError:
        """Return a copy that names ``file``/``layer``/``config`` where this error did not."""
        return LayerError(
            self.problem,
            file=self.file or (str(file) if file is not None else None),
            row=self.row,
            column=self.column,
            fix=self.fix,
            layer=self.layer or layer,
            config=self.config or config,
        )

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # keep keyword-only arguments through pickling (Dask, multiprocessing)
        return (
            _rebuild,
            (self.problem, self.file, self.row, self.column, self.fix, self.layer, self.config),
        )


def _rebuild(
    problem: str,
    file: str | None,
    row: int | None,
    column: str | None,
    fix: str | None,
    layer: str | None,
    config: tuple[str, int | None, str] | None,
) -> LayerError:
    return LayerError(problem, file=file, row=row, column=column, fix=fix, layer=layer,
                      config=config)


class ParameterError(LayerError):
    """A problem with an analysis parameter (not with a file): it names the parameter.

    Engine code knows parameters by their Python names (``max_distance``); how a
    person calls one depends on where they set it.  The command line shows the
    option (``--max-distance``), an app page the widget's label: call
    :meth:`labelled` before showing the message.

    Parameters
    ----------
    problem
        What is wrong, in Japanese.
    parameter
        The parameter's name in the entry function (``max_distance``), or several
        joined by ``" / "`` when the problem is their combination.
    fix
        What the user should do (without naming an option or a widget).
    """

    def __init__(self, problem: str, *, parameter: str, fix: str | None = None,
                 layer: str | None = None, file: str | Path | None = None) -> None:
        self.parameter = parameter
        self.label: str | None = None
        super().__init__(problem, fix=fix, layer=layer, file=file, column=parameter)

    @property
    def names(self) -> list[str]:
        """The parameter names this error is about."""
        return [n.strip() for n in self.parameter.split("/") if n.strip()]

    @property
    def location(self) -> str:
        where = f"設定「{self.label or self.parameter}」"
        return f"{where} ファイル {self.file}" if self.file else where

    def labelled(self, labels: dict[str, str]) -> ParameterError:
        """Name the parameters as a person set them: ``labels[name]`` (a widget's label, a
        command-line option); a parameter without a label keeps its name."""
        self.label = " / ".join(labels.get(name, name) for name in self.names)
        self.args = (self.message,)
        return self

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (_rebuild_parameter, (self.problem, self.parameter, self.fix, self.layer, self.file))


def _rebuild_parameter(problem: str, parameter: str, fix: str | None, layer: str | None,
                       file: str | None) -> ParameterError:
    return ParameterError(problem, parameter=parameter, fix=fix, layer=layer, file=file)
