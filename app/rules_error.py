class RulesError(Exception):
    """Problems found in routing_rules/: each names the file, the entry and what is wrong."""

    def __init__(self, problems: list[tuple[str, str, str]]):
        self.problems = problems
        super().__init__("\n".join(f"{f}: {e}: {m}" for f, e, m in problems))
