package msts.io;

import java.nio.file.Path;

/** A bad or unreadable safetensors file: the message names the file and, when known, the tensor. */
public class SafeTensorsException extends RuntimeException {
    public SafeTensorsException(String message) { super(message); }

    public SafeTensorsException(String message, Throwable cause) { super(message, cause); }

    static SafeTensorsException of(Path file, String tensor, String what) {
        return new SafeTensorsException(format(file, tensor, what));
    }

    static SafeTensorsException of(Path file, String tensor, String what, Throwable cause) {
        return new SafeTensorsException(format(file, tensor, what), cause);
    }

    private static String format(Path file, String tensor, String what) {
        StringBuilder sb = new StringBuilder();
        if (file != null) sb.append(file).append(": ");
        if (tensor != null) sb.append("tensor '").append(tensor).append("': ");
        return sb.append(what).toString();
    }
}
