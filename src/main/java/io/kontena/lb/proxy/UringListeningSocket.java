package io.kontena.lb.proxy;

import io.netty.channel.ServerChannel;
import io.netty.channel.unix.Socket;
import io.netty.channel.uring.IoUringServerSocketChannel;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;

/**
 * An io_uring server channel for a listening socket received from another process. Netty 4.2.18's
 * IoUringServerSocketChannel has no constructor taking a file descriptor (its epoll one has), so the channel is
 * made with a socket of its own, which is then swapped for the received one, marked bound (active) with its
 * address, as the channel's package-private constructor would have done; the reflection is confined here.
 */
final class UringListeningSocket {
    private static final Constructor<?> LINUX_SOCKET;
    private static final Field SOCKET;
    private static final Field ACTIVE;
    private static final Field LOCAL;
    private static final ReflectiveOperationException UNREACHABLE;

    static {
        Constructor<?> linuxSocket = null;
        Field socket = null;
        Field active = null;
        Field local = null;
        ReflectiveOperationException unreachable = null;
        try {
            Class<?> channel = Class.forName("io.netty.channel.uring.AbstractIoUringChannel");
            linuxSocket = Class.forName("io.netty.channel.uring.LinuxSocket").getDeclaredConstructor(int.class);
            socket = channel.getDeclaredField("socket");
            active = channel.getDeclaredField("active");
            local = channel.getDeclaredField("local");
            for (var member : new java.lang.reflect.AccessibleObject[] {linuxSocket, socket, active, local}) {
                member.setAccessible(true);
            }
        } catch (ReflectiveOperationException e) {
            unreachable = e;
        }
        LINUX_SOCKET = linuxSocket;
        SOCKET = socket;
        ACTIVE = active;
        LOCAL = local;
        UNREACHABLE = unreachable;
    }

    private UringListeningSocket() {
    }

    static ServerChannel adopt(int fd) {
        if (UNREACHABLE != null) {
            throw new IllegalStateException("io_uring cannot adopt a listening socket with this Netty ("
                    + UNREACHABLE + "); start with " + Transport.VARIABLE + "=epoll", UNREACHABLE);
        }
        IoUringServerSocketChannel ch = new IoUringServerSocketChannel();
        try {
            Socket own = (Socket) SOCKET.get(ch);
            Socket received = (Socket) LINUX_SOCKET.newInstance(fd);
            SOCKET.set(ch, received);
            LOCAL.set(ch, received.localAddress());
            ACTIVE.setBoolean(ch, true);
            own.close();
        } catch (ReflectiveOperationException | IOException e) {
            throw new IllegalStateException("io_uring cannot adopt listening socket " + fd + ": " + e, e);
        }
        return ch;
    }
}
