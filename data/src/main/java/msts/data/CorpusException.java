package msts.data;

/** A corpus file that cannot be read as documented (bad JSON line, missing "text" field, I/O error). */
public class CorpusException extends RuntimeException {
    public CorpusException(String message) { super(message); }

    public CorpusException(String message, Throwable cause) { super(message, cause); }
}
