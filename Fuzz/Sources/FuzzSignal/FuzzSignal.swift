// libFuzzer target: sensor-signal parsers (CSV with header/time-column detection, UEA .ts).
// Any input must give a signal or a SignalError.
import FuzzSupport
import OmniData

@main
enum FuzzSignal {
    static func main() {
        FuzzInput.run { data, size in
            if let s = try? Signal(csvContentsOf: FuzzInput.file(data, size, extension: "csv")) { _ = s.channelStatistics() }
            _ = try? TSFile(contentsOf: FuzzInput.file(data, size, extension: "ts"))
            return 0
        }
    }
}
