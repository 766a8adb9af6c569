package io.kontena.lb.kontena;

/** KONTENA_LB_MODE: how a balanced service is reached. */
enum Mode {
    HTTP, TCP
}
