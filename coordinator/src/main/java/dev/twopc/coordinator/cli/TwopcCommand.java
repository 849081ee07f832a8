package dev.twopc.coordinator.cli; public final class TwopcCommand { public static void main(String[] a) {} }
