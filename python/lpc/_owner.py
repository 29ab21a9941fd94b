"""The base of the package's objects that own liblpc handles (lpc.Model,
lpc.OODDetector): one lock per object, taken by every method, so threads
sharing an object run one after the other; close() frees the handles (also
when the object is collected or leaves a with block) and waits for a method
running in another thread; every method of a closed object raises
ValueError."""
import threading


class Owner:
    """Subclasses call Owner.__init__ first, free their handles in
    _release() (called with the lock held; it must tolerate handles never
    made) and say in the property closed whether they are gone."""

    def __init__(self):
        self._lock = threading.Lock()

    def _release(self):
        raise NotImplementedError

    def _live(self, who):
        """Raises ValueError when the object is closed (call with the lock held)."""
        if self.closed:
            kind = type(self).__name__
            raise ValueError(f"lpc.{kind}.{who}: {kind} is closed")

    def close(self):
        """Frees the library's handles now (they are also freed when the
        object is collected); waits for a method running in another thread.
        Closing twice is harmless."""
        with self._lock:
            self._release()

    def __del__(self):
        try:
            if getattr(self, "_lock", None) is not None:
                self.close()
        except Exception:  # interpreter shutdown
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
