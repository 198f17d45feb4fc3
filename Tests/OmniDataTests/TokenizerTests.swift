import Testing
@testable import OmniData
