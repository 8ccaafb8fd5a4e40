package msts.data;

/** An activation store or activations file that cannot be used as asked; the message says why and where. */
public class StoreException extends RuntimeException {
    public StoreException(String message) { super(message); }

    public StoreException(String message, Throwable cause) { super(message, cause); }
}
