package io.kontena.lb.config;

import java.util.List;

/**
 * HTTP basic authentication in front of a service: a request passes with the name and password of one of the users.
 *
 * @param users in the order given; names are unique
 */
public record BasicAuth(List<User> users) {
    public BasicAuth {
        users = List.copyOf(users);
    }

    /**
     * @param password a crypt(3) hash ({@code $6$...}, {@code $5$...}, {@code $1$...}) when {@code hashed}, else the
     *                 password itself
     */
    public record User(String name, String password, boolean hashed) {
        @Override
        public String toString() {
            return name; // never the password, nor its hash
        }
    }
}
