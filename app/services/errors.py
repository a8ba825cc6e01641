class ServiceError(Exception):
    """A refusal the user should read: message in Chinese, field when one is to blame."""

    def __init__(self, message: str, field: str | None = None, code: str = "invalid"):
        self.message, self.field, self.code = message, field, code
        super().__init__(message)


class ValidationFailed(ServiceError):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        field, message = next(iter(errors.items()))
        super().__init__(message, field, "invalid")


class NotFound(ServiceError):
    def __init__(self) -> None:
        super().__init__("未找到该诉求。", None, "not_found")


class Conflict(ServiceError):
    def __init__(self, message: str = "该诉求刚被他人处理，请刷新后再试。") -> None:
        super().__init__(message, None, "conflict")
