package io.kontena.lb.kontena;

/**
 * A vault secret mapped into a service ({@code secrets:} entry).
 *
 * @param secret the vault key
 * @param name   the variable it becomes (for example SSL_CERTS)
 * @param type   how it is handed over; Kontena only knew "env"
 */
public record SecretRef(String secret, String name, String type) {
}
