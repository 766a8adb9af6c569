package io.kontena.lb.kontena;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;

/**
 * One {@code -----BEGIN X----- ... -----END X-----} block of a PEM text.
 *
 * @param type       the label, upper case ({@code CERTIFICATE}, {@code RSA PRIVATE KEY}, ...)
 * @param text       the block from BEGIN to END inclusive
 * @param terminated false when the END line is missing, as in a value cut short by a size limit
 */
record CertificatePemBlock(String type, String text, boolean terminated) {

    private static final Pattern BEGIN = Pattern.compile("-----BEGIN ([A-Z0-9 .]+)-----");

    boolean isPrivateKey() {
        return type.endsWith("PRIVATE KEY");
    }

    boolean isCertificate() {
        return type.equals("CERTIFICATE") || type.equals("X509 CERTIFICATE") || type.equals("TRUSTED CERTIFICATE");
    }

    /** Parameters some tools put beside keys; HAProxy accepted them in a bundle, so they are passed over. */
    boolean isParameters() {
        return type.endsWith("PARAMETERS");
    }

    /**
     * The blocks of a text in order. Anything between blocks is ignored, as {@code openssl pkcs12} output
     * puts "Bag Attributes" lines there.
     */
    static List<CertificatePemBlock> scan(String pem) {
        List<MatchResult> begins = BEGIN.matcher(pem).results().toList();
        List<CertificatePemBlock> blocks = new ArrayList<>(begins.size());
        for (int i = 0; i < begins.size(); i++) {
            MatchResult begin = begins.get(i);
            int limit = i + 1 < begins.size() ? begins.get(i + 1).start() : pem.length();
            String endLine = "-----END " + begin.group(1) + "-----";
            int end = pem.indexOf(endLine, begin.end());
            String type = begin.group(1).trim().toUpperCase(Locale.ROOT);
            if (end >= 0 && end < limit) {
                blocks.add(new CertificatePemBlock(type, pem.substring(begin.start(), end + endLine.length()), true));
            } else {
                blocks.add(new CertificatePemBlock(type, pem.substring(begin.start(), limit), false));
            }
        }
        return blocks;
    }
}
